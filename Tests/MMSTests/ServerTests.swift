import ASF
import AsfcastServer
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServerTestSupport
import Streaming
import Testing
@testable import MMS

/// The MMS engine in-process, driven by the project's own client: the whole exchange, error
/// reports, stream selection and UDP resend requests. Fast Start is widened so that the files
/// arrive in a moment.
@Suite(.serialized)
final class ServerTests {
    let running: TestServer
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    init() throws {
        running = try TestServer {
            $0.fastStartBufferSeconds = 30
            $0.fastStartMaximumRate = 100
            $0.addPrivateAndMovedPoints()
        }
    }

    deinit {
        try? group.syncShutdownGracefully()
    }

    private func connect(udp: Bool = false, data: @escaping @Sendable (MMSData) -> Void = { _ in }) async throws -> MMSClient {
        try await MMSClient.connect(host: "127.0.0.1", port: running.server.mmsPort, group: group, udp: udp, data: data)
    }

    /// 2.2.4.21, 3.2.5.6: a point with users refuses an OpenFile without a user's basic
    /// credentials in tokenData with hr "access denied", and opens it with them.
    @Test func privatePointsNeedCredentials() async throws {
        let client = try await connect()
        _ = try await client.request(.connect(playIncarnation: 0, subscriberName: "NSPlayer/7.0"))
        _ = try await client.request(.connectFunnel(funnelName: client.funnelName))
        func open(_ token: String) async throws -> UInt32? {
            guard case let .reportOpenFile(report) = try await client.request(.openFile(playIncarnation: 1, fileName: "private/demo.wmv",
                                                                                        token: ByteBuffer(string: token))) else { return nil }
            return report.hr
        }
        #expect(try await open("") == ServerMessage.HResult.accessDenied)
        #expect(try await open(String(Credentials(user: "alice", password: "guess").basic.dropFirst(6)) + "\0") == ServerMessage.HResult.accessDenied)
        #expect(try await open(String(Credentials(user: "alice", password: "secret").basic.dropFirst(6)) + "\0") == 0)
        await client.close()
    }

    /// 2.2.4.9, 3.2.5.6: OpenFile of a redirecting point gets ReportRedirect, then the server
    /// closes the connection.
    @Test func redirectingPointsSendReportRedirect() async throws {
        let client = try await connect()
        _ = try await client.request(.connect(playIncarnation: 0, subscriberName: "NSPlayer/7.0"))
        _ = try await client.request(.connectFunnel(funnelName: client.funnelName))
        let reply = try await client.request(.openFile(playIncarnation: 1, fileName: "moved/demo.wmv", token: ByteBuffer()))
        #expect(reply == .reportRedirect(location: "mms://media2.example.com/moved/demo.wmv"))
        try await client.closed.get()
    }

    /// MS-MMSP 3.2.5.6 to 3.2.5.11.1: ReportOpenFile describes the file, the header arrives
    /// whole, and every data packet follows in order, numbered by its place in the file, with
    /// the StartPlaying's incarnation and a sequence in AFFlags, then ReportEndOfStream.
    @Test func playsTheWholeFile() async throws {
        let file = try ASFFile(path: TestServer.media + "/demo.wmv")
        let packets = NIOLockedValueBox<[MMSData]>([])
        let client = try await connect { packet in packets.withLockedValue { $0.append(packet) } }
        let (report, header) = try await client.open("demo.wmv")
        #expect(report.openFileID == 1 && report.attributes == ServerMessage.ReportOpenFile.canSeek)
        #expect(report.packetSize == 3200 && report.packetCount == 220 && Int(report.headerSize) == header.readableBytes)
        #expect(abs(report.durationSeconds - 20.045) < 0.01)
        #expect(try ASFHeader(parsing: header).streams.count == 2)
        #expect(try await client.request(.streamSwitch([StreamSwitchEntry(destination: 1), StreamSwitchEntry(destination: 2)])) == .reportStreamSwitch(hr: 0))
        #expect(try await client.request(.startPlaying(.init(playIncarnation: 4))) == .reportStartedPlaying(hr: 0, playIncarnation: 4, openFileID: 1))
        #expect(try await client.next().get() == .reportEndOfStream(hr: 0, playIncarnation: 4))
        let received = packets.withLockedValue { $0 }
        #expect(received.map(\.locationID) == Array(0..<220))
        #expect(received.map(\.flags) == (0..<220).map { UInt8($0 & 0xFF) })
        #expect(received.allSatisfy { $0.playIncarnation == 4 })
        #expect(try received.map(\.payload) == (0..<220).map { try file.packet($0).bytes })
        try await client.send(.closeFile(openFileID: 1))
        try await client.closed.get()
    }

    /// Errors are the protocol's own reports: an unknown file, a StartPlaying before a file is
    /// open, a StreamSwitch that selects nothing; garbage closes only its own connection.
    @Test func errorsAreReports() async throws {
        let client = try await connect()
        _ = try await client.request(.connect(playIncarnation: 0, subscriberName: "NSPlayer/7.0"))
        #expect(try await client.request(.startPlaying(.init())) == .reportStartedPlaying(hr: ServerMessage.HResult.unexpected, playIncarnation: 4, openFileID: 1))
        #expect(try await client.request(.connectFunnel(funnelName: "\\\\127.0.0.1\\TCP\\1")) == .reportConnectedFunnel)
        guard case let .reportOpenFile(missing) = try await client.request(.openFile(playIncarnation: 1, fileName: "missing.wmv", token: ByteBuffer())) else {
            Issue.record("no ReportOpenFile")
            return
        }
        #expect(missing.hr == ServerMessage.HResult.fileNotFound)
        guard case let .reportOpenFile(escape) = try await client.request(.openFile(playIncarnation: 1, fileName: "../config/asfcast.yaml", token: ByteBuffer())) else { return }
        #expect(escape.hr == ServerMessage.HResult.fileNotFound)
        await client.close()

        let other = try await connect()
        _ = try await other.open("demo.wmv")
        #expect(try await other.request(.streamSwitch([StreamSwitchEntry(destination: 9)])) == .reportStreamSwitch(hr: ServerMessage.HResult.invalidArgument))

        let garbage = try await connect()
        var bytes = ClientMessage.pong.message.bytes()
        bytes.setInteger(UInt32(0xDEAD_BEEF), at: 4, endianness: .little)
        try await garbage.send(raw: bytes)
        try await garbage.closed.get()
        // The other session is untouched.
        #expect(try await other.request(.streamSwitch([StreamSwitchEntry(destination: 1)])) == .reportStreamSwitch(hr: 0))
        await other.close()
    }

    /// 3.2.5.10: a StreamSwitch choosing the smallest of multibitrate.wmv's three video streams
    /// (and the audio) yields only those streams' payloads.
    @Test func streamSwitchSelectsOneVideoStream() async throws {
        let packets = NIOLockedValueBox<[MMSData]>([])
        let client = try await connect { packet in packets.withLockedValue { $0.append(packet) } }
        _ = try await client.open("multibitrate.wmv")
        let entries = [StreamSwitchEntry(destination: 1, thinning: 2), StreamSwitchEntry(destination: 2, thinning: 2),
                       StreamSwitchEntry(destination: 3), StreamSwitchEntry(destination: 4)]
        #expect(try await client.request(.streamSwitch(entries)) == .reportStreamSwitch(hr: 0))
        _ = try await client.request(.startPlaying(.init()))
        #expect(try await client.next().get() == .reportEndOfStream(hr: 0, playIncarnation: 4))
        var streams = Set<UInt8>()
        for packet in packets.withLockedValue({ $0 }) { streams.formUnion(try DataPacket(parsing: packet.payload).streamNumbers) }
        #expect(streams == [3, 4])
        await client.close()
    }

    /// 3.2.4.1, 3.2.4.2: a playlist whose second entry has other streams (audio only, then
    /// video and audio): ReportEndOfStream with hr 1, ReportStreamChange, the new header over
    /// TCP; after the client's StreamSwitch and StartPlaying the second entry's packets follow,
    /// then the final ReportEndOfStream.
    @Test func entryWithOtherStreamsIsAStreamChange() async throws {
        let root = try MixedPlaylistRoot()
        defer { root.remove() }
        let playlist = try TestServer {
            $0.mediaRoot = root.path
            $0.fastStartBufferSeconds = 30
            $0.fastStartMaximumRate = 100
        }
        let packets = NIOLockedValueBox<[MMSData]>([])
        let client = try await MMSClient.connect(host: "127.0.0.1", port: playlist.server.mmsPort, group: group) { packet in
            packets.withLockedValue { $0.append(packet) }
        }
        let (report, first) = try await client.open("mixed.wsx")
        #expect(report.attributes == ServerMessage.ReportOpenFile.playlist)
        #expect(try ASFHeader(parsing: first).streams.map(\.streamNumber) == [1])
        _ = try await client.request(.streamSwitch([StreamSwitchEntry(destination: 1)]))
        let header = client.expectHeader(playIncarnation: 0xFF)
        _ = try await client.request(.startPlaying(.init()))
        #expect(try await client.next().get() == .reportEndOfStream(hr: 1, playIncarnation: 4))
        guard case let .reportStreamChange(packetSize, headerSize, _) = try await client.next().get() else {
            Issue.record("no ReportStreamChange")
            return
        }
        let second = try await header.get()
        #expect(packetSize == 3200 && Int(headerSize) == second.readableBytes)
        #expect(try ASFHeader(parsing: second).streams.map(\.streamNumber) == [1, 2])
        let firstEntry = packets.withLockedValue { $0 }
        _ = try await client.request(.streamSwitch([StreamSwitchEntry(destination: 1), StreamSwitchEntry(destination: 2)]))
        #expect(try await client.request(.startPlaying(.init(playIncarnation: 5))) == .reportStartedPlaying(hr: 0, playIncarnation: 5, openFileID: 1))
        #expect(try await client.next().get() == .reportEndOfStream(hr: 0, playIncarnation: 5))
        let secondEntry = packets.withLockedValue { Array($0.dropFirst(firstEntry.count)) }
        var streams: [Set<UInt8>] = [[], []]
        for (i, entry) in [firstEntry, secondEntry].enumerated() {
            for packet in entry { streams[i].formUnion(try DataPacket(parsing: packet.payload).streamNumbers) }
        }
        #expect(streams == [[1], [1, 2]])
        #expect(secondEntry.allSatisfy { $0.playIncarnation == 5 })
        await client.close()
    }

    /// 3.2.6: a connection that is not playing gets a Ping at half the idle timeout and, left
    /// unanswered, is closed at the timeout.
    @Test func silentConnectionsArePingedThenClosed() async throws {
        let impatient = try TestServer { $0.mmsIdleTimeoutSeconds = 2 }
        let client = try await MMSClient.connect(host: "127.0.0.1", port: impatient.server.mmsPort, group: group, answerPings: false)
        _ = try await client.request(.connect(playIncarnation: 0, subscriberName: "NSPlayer/7.0"))
        #expect(try await client.next().get() == .ping)
        try await client.closed.get()
    }

    /// 2.2.5, 3.2.5.13: over UDP, Data packets set aside as lost come back, byte for byte, when
    /// the client names their sequence numbers in a RequestPacketListResend.
    @Test func resendRequestsRecoverDroppedPackets() async throws {
        let arrivals = Arrivals(loop: group.next(), dropping: [3, 7, 8])
        let client = try await connect(udp: true) { arrivals.receive($0) }
        _ = try await client.open("demo.wmv")
        _ = try await client.request(.startPlaying(.init()))
        let dropped = try await arrivals.until { kept, _ in kept.count >= 20 }.dropped
        #expect(dropped.map(\.flags) == [3, 7, 8])
        let clientID = try #require(client.clientID)
        try await client.requestResend(ResendRequest(clientID: clientID, sourceID: 1, sequences: [3, 7, 8]),
                                       to: try SocketAddress(ipAddress: "127.0.0.1", port: running.server.mmsPort))
        let kept = try await arrivals.until { kept, _ in kept.contains { $0.flags == 8 } }.kept
        #expect(kept.filter { [3, 7, 8].contains($0.flags) } == dropped, "identical Data packets (3.2.5.13)")
        await client.close()
    }
}

/// Collects Data packets on one event loop, setting aside the first with the given sequence
/// numbers as if lost, and completes when a condition holds (bounded by a 30 s guard, so that
/// a broken server fails the test instead of hanging it).
final class Arrivals: @unchecked Sendable {
    private let loop: EventLoop
    private let dropping: Set<UInt8>
    private var kept: [MMSData] = []
    private var dropped: [MMSData] = []
    private var waiter: (condition: ([MMSData], [MMSData]) -> Bool, promise: EventLoopPromise<Void>)?

    init(loop: EventLoop, dropping: Set<UInt8>) {
        self.loop = loop
        self.dropping = dropping
    }

    func receive(_ packet: MMSData) {
        loop.execute { [self] in
            if dropping.contains(packet.flags), !dropped.contains(where: { $0.flags == packet.flags }) {
                dropped.append(packet)
            } else {
                kept.append(packet)
            }
            check()
        }
    }

    func until(_ condition: @escaping (_ kept: [MMSData], _ dropped: [MMSData]) -> Bool) async throws -> (kept: [MMSData], dropped: [MMSData]) {
        let promise = loop.makePromise(of: Void.self)
        loop.execute { [self] in
            waiter = (condition, promise)
            check()
        }
        let guardTask = loop.scheduleTask(in: .seconds(30)) { [self] in
            if let waiter { self.waiter = nil; waiter.promise.fail(ChannelError.connectTimeout(.seconds(30))) }
        }
        defer { guardTask.cancel() }
        try await promise.futureResult.get()
        return try await loop.submit { (self.kept, self.dropped) }.get()
    }

    private func check() {
        if let waiter, waiter.condition(kept, dropped) {
            self.waiter = nil
            waiter.promise.succeed()
        }
    }
}
