import Multicast
import NIOCore
import NIOEmbedded
import Testing

@Suite struct MSBDTests {
    static func bytes(_ message: MSBDMessage) -> ByteBuffer {
        var b = ByteBuffer()
        #expect(message.write(to: &b))
        return b
    }

    @Test func everyMessageRoundTrips() throws {
        var info = MSBDStreamInfo(streamID: 0x39E, packetSize: 3200, bitRate: 265_000, header: [0x30, 0x26, 0xB2, 0x75])
        info.title = Array("Live".utf8)
        let messages: [MSBDMessage] = [
            .requestPing, .responsePing, .requestStreamInfo, .endOfStream,
            .streamInfo(info, response: false, hr: 0), .streamInfo(info, response: true, hr: 0), .streamInfo(.empty, response: false, hr: 0xC00D_0033),
            .requestConnect(flags: 1, channel: "NetShow"),
            .responseConnect(hr: 0, headerInNSC: true, group: (0xEFFF_2A2A, 16000)), .responseConnect(hr: 0xC00D_001A, headerInNSC: false, group: nil),
            .packet(id: 7, streamID: 0x839E, data: ByteBuffer(bytes: [0x82, 0, 0, 1, 2, 3])),
        ]
        for message in messages { #expect(try MSBDMessage(parsing: Self.bytes(message)) == message) }
    }

    /// 2.2.1, 2.2.7, 2.2.8: the header's fields, "NetShow" in UTF-16 without its NUL, the
    /// sockaddr_in's big-endian port and address.
    @Test func theLayoutIsTheSpecs() {
        let connect = Self.bytes(.requestConnect(flags: 1, channel: "NetShow"))
        #expect(Array(connect.readableBytesView.prefix(16)) == [0x4D, 0x53, 0x42, 0x20, 0x06, 0x01, 7, 0, 34, 0, 0, 0, 0, 0, 0, 0])
        #expect(Array(connect.readableBytesView.dropFirst(20).prefix(4)) == [0x4E, 0, 0x65, 0])
        let answer = Self.bytes(.responseConnect(hr: 0, headerInNSC: true, group: (0xEFFF_2A2A, 16000)))
        #expect(Array(answer.readableBytesView.dropFirst(16)) == [2, 0, 0, 0, 2, 0, 0x3E, 0x80, 0xEF, 0xFF, 0x2A, 0x2A, 0, 0, 0, 0, 0, 0, 0, 0])
    }

    @Test func lengthsAreChecked() {
        var short = Self.bytes(.packet(id: 1, streamID: 1, data: ByteBuffer(bytes: [1, 2, 3])))
        short.moveWriterIndex(to: short.writerIndex - 1)
        #expect(throws: MSBDError.self) { try MSBDMessage(parsing: short) }
        var info = Self.bytes(.streamInfo(MSBDStreamInfo(streamID: 1, packetSize: 1, bitRate: 1, header: [1, 2]), response: false, hr: 0))
        info.setInteger(UInt32(500), at: info.readerIndex + 16 + 28, endianness: .little)   // cbHeader beyond the message
        #expect(throws: MSBDError.self) { try MSBDMessage(parsing: info) }
        #expect(throws: MSBDError.signature(0x2042_534E)) { try MSBDMessage(parsing: ByteBuffer(bytes: [0x4E, 0x53, 0x42, 0x20] + [UInt8](repeating: 0, count: 12))) }
    }

    @Test func theDecoderSplitsAStreamAndRefusesGarbage() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(MSBDMessageDecoder()))
        var stream = Self.bytes(.requestConnect(flags: 1, channel: "NetShow"))
        stream.writeImmutableBuffer(Self.bytes(.responsePing))
        for byte in stream.readableBytesView { try channel.writeInbound(ByteBuffer(bytes: [byte])) }
        #expect(try channel.readInbound(as: MSBDMessage.self) == .requestConnect(flags: 1, channel: "NetShow"))
        #expect(try channel.readInbound(as: MSBDMessage.self) == .responsePing)
        #expect(throws: MSBDError.self) { try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.0\r\n\r\n")) }
    }

    @Test func aSessionTakesAConnectThenPingsAndEndsOnAnythingElse() {
        var tcp = MSBDSession(hasGroup: false)
        #expect(tcp.receive(.requestConnect(flags: 1, channel: "NetShow")) == .accept(overConnection: true))
        #expect(tcp.receive(.responsePing) == .pingAnswered)
        #expect(tcp.receive(.requestStreamInfo) == .sendStreamInfo)
        guard case .close = tcp.receive(.requestConnect(flags: 1, channel: "NetShow")) else { Issue.record("a second connect"); return }
        var noGroup = MSBDSession(hasGroup: false)
        #expect(noGroup.receive(.requestConnect(flags: 2, channel: "NetShow")) == .refuse(hr: MSBDSession.multicastNotSupported))
        var group = MSBDSession(hasGroup: true)
        #expect(group.receive(.requestConnect(flags: 2, channel: "NetShow")) == .accept(overConnection: false))
        var odd = MSBDSession(hasGroup: true)
        #expect(odd.receive(.requestConnect(flags: 5, channel: "NetShow")) == .refuse(hr: MSBDSession.invalidArgument))
        var early = MSBDSession(hasGroup: true)
        guard case .close = early.receive(.responsePing) else { Issue.record("a ping before the connect"); return }
    }
}
