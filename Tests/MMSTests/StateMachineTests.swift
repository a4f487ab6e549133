import NIOCore
import Testing
@testable import MMS

/// MS-MMSP 3.2.5: the order of messages the server accepts, as a plain value.
struct StateMachineTests {
    static let connect = ClientMessage.connect(playIncarnation: 0, subscriberName: "NSPlayer/7.0")
    static let open = ClientMessage.openFile(playIncarnation: 1, fileName: "demo.wmv", token: ByteBuffer())
    static let play = ClientMessage.startPlaying(.init())

    /// ffmpeg's order (CLIENTS.md 2.2), through the end of the stream and a second play.
    @Test func aWholeSessionInOrder() {
        var m = MMSSessionStateMachine()
        #expect(m.receive(Self.connect) == .accept && m.state == .connected)
        #expect(m.receive(.funnelInfo(playIncarnation: 0)) == .accept && m.state == .connected)
        #expect(m.receive(.connectFunnel(funnelName: "\\\\1.2.3.4\\TCP\\1")) == .accept)
        m.funnelConnected()
        #expect(m.state == .funnelled)
        #expect(m.receive(Self.open) == .accept)
        m.fileOpened()
        #expect(m.state == .ready)
        #expect(m.receive(.readBlock(openFileID: 1, playIncarnation: 2)) == .accept)
        #expect(m.receive(.streamSwitch([StreamSwitchEntry(destination: 1)])) == .accept)
        #expect(m.receive(Self.play) == .accept && m.state == .streaming)
        #expect(m.receive(.pong) == .accept && m.state == .streaming)
        let ended = m.endOfStream()
        #expect(ended && m.state == .ready)
        let again = m.endOfStream()
        #expect(!again, "the end is reported once")
        #expect(m.receive(Self.play) == .accept && m.state == .streaming)
        #expect(m.receive(.stopPlaying(openFileID: 1, playIncarnation: 4)) == .accept && m.state == .ready)
        #expect(m.receive(.closeFile(openFileID: 1)) == .accept && m.state == .closed)
        #expect(m.receive(.pong) == .outOfOrder, "nothing after CloseFile")
    }

    /// VLC skips FunnelInfo.
    @Test func funnelInfoIsOptional() {
        var m = MMSSessionStateMachine()
        _ = m.receive(Self.connect)
        #expect(m.receive(.connectFunnel(funnelName: "\\\\1.2.3.4\\UDP\\7000")) == .accept)
    }

    @Test(arguments: [
        (ClientMessage.openFile(playIncarnation: 1, fileName: "x", token: ByteBuffer()), MMSSessionStateMachine.State.initial),
        (.pong, .initial),
        (.closeFile(openFileID: 1), .initial),
        (.readBlock(openFileID: 1, playIncarnation: 2), .connected),
        (.startPlaying(.init()), .connected),
        (.openFile(playIncarnation: 1, fileName: "x", token: ByteBuffer()), .connected),
        (.startPlaying(.init()), .funnelled),
        (.streamSwitch([]), .funnelled),
        (.connect(playIncarnation: 0, subscriberName: ""), .ready),
        (.connectFunnel(funnelName: ""), .ready),
        (.unsupported(mid: 0x0003_0028), .ready),
    ])
    func outOfOrderMessagesAreRefused(message: ClientMessage, state: MMSSessionStateMachine.State) {
        var m = Self.machine(in: state)
        #expect(m.receive(message) == .outOfOrder)
        #expect(m.state == state, "a refused message changes nothing")
    }

    /// A ConnectFunnel answered with ReportDisconnectedFunnel may be retried; an OpenFile that
    /// found nothing leaves the funnel for another.
    @Test func refusedStepsMayBeRetried() {
        var m = Self.machine(in: .connected)
        #expect(m.receive(.connectFunnel(funnelName: "bad")) == .accept)
        #expect(m.state == .connected)
        #expect(m.receive(.connectFunnel(funnelName: "\\\\1.2.3.4\\TCP\\1")) == .accept)
        m.funnelConnected()
        #expect(m.receive(Self.open) == .accept && m.state == .funnelled)
        #expect(m.receive(Self.open) == .accept)
        m.fileOpened()
        #expect(m.state == .ready)
    }

    static func machine(in state: MMSSessionStateMachine.State) -> MMSSessionStateMachine {
        var m = MMSSessionStateMachine()
        guard state != .initial else { return m }
        _ = m.receive(connect)
        guard state != .connected else { return m }
        m.funnelConnected()
        guard state != .funnelled else { return m }
        m.fileOpened()
        guard state != .ready else { return m }
        _ = m.receive(play)
        return m
    }
}
