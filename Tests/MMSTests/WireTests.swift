import NIOCore
import Testing
@testable import MMS

/// MS-MMSP 2.2: the TcpMessageHeader framing, every message both ways, Data packets and
/// resend requests, and the parser against malformed and mutated input.
struct WireTests {
    static let clientMessages: [ClientMessage] = [
        .connect(playIncarnation: 0xF0F0_F0EF, subscriberName: "NSPlayer/7.0.0.1956; {7E667F5D-A661-495E-A512-F55686DDA178}; Host: 127.0.0.1"),
        .funnelInfo(playIncarnation: 0xF0F0_F000),
        .connectFunnel(funnelName: "\\\\192.168.0.129\\TCP\\1037"),
        .openFile(playIncarnation: 1, fileName: "demo.wmv", token: ByteBuffer()),
        .openFile(playIncarnation: 1, fileName: "a/b.wmv", token: ByteBuffer(string: "user:secret")),
        .readBlock(openFileID: 1, playIncarnation: 2),
        .cancelReadBlock(playIncarnation: 2),
        .streamSwitch([StreamSwitchEntry(destination: 1), StreamSwitchEntry(destination: 2, thinning: 2)]),
        .startPlaying(.init(position: 10.5, locationID: 109, playIncarnation: 4)),
        .stopPlaying(openFileID: 1, playIncarnation: 4),
        .closeFile(openFileID: 1),
        .pong,
    ]

    @Test(arguments: clientMessages)
    func clientMessagesRoundTrip(_ message: ClientMessage) throws {
        var bytes = message.message.bytes(sequence: 7)
        #expect(bytes.readableBytes % 8 == 0)
        let framed = try #require(try MMSMessageParser().parse(&bytes))
        #expect(bytes.readableBytes == 0)
        var decoded = try ClientMessage(framed)
        // The body is padded to 8 bytes: a token's length says where the name ends.
        if case let .openFile(i, name, token) = decoded, token.readableBytes > 0 { decoded = .openFile(playIncarnation: i, fileName: name, token: token) }
        #expect(decoded == message)
    }

    static let serverMessages: [ServerMessage] = [
        .reportConnectedEX(hr: 0, serverVersion: "9.01.01.3814"),
        .reportFunnelInfo(clientID: 0x1234_5678),
        .reportConnectedFunnel,
        .reportDisconnectedFunnel(hr: ServerMessage.HResult.invalidArgument),
        .reportOpenFile(.init(playIncarnation: 1, attributes: ServerMessage.ReportOpenFile.canSeek, durationSeconds: 20.045,
                              packetSize: 3200, packetCount: 220, bitRate: 265_000, headerSize: 809)),
        .reportReadBlock(hr: 0, playIncarnation: 2),
        .reportStreamSwitch(hr: 0),
        .reportStartedPlaying(hr: 0, playIncarnation: 4, openFileID: 1),
        .reportEndOfStream(hr: 0, playIncarnation: 4),
        .reportStreamChange(packetSize: 3200, headerSize: 809, bitRate: 265_000),
        .reportRedirect(location: "mmst://media2.example.com/demo.wmv"),
        .ping,
    ]

    @Test(arguments: serverMessages)
    func serverMessagesRoundTrip(_ message: ServerMessage) throws {
        var bytes = message.message.bytes()
        let framed = try #require(try MMSMessageParser().parse(&bytes))
        #expect(try ServerMessage(framed) == message)
    }

    /// What VLC reads of ReportOpenFile (CLIENTS.md 2.3): openFileId at 48, a body of at least
    /// 64 bytes, attributes at 60, packet size at 92, header size at 108.
    @Test func reportOpenFileHasTheOffsetsVLCReads() {
        let report = ServerMessage.reportOpenFile(.init(playIncarnation: 1, attributes: ServerMessage.ReportOpenFile.broadcast,
                                                        packetSize: 3200, bitRate: 265_000, headerSize: 809))
        let b = report.message.bytes()
        #expect(b.getInteger(at: 48, endianness: .little, as: UInt32.self) == 1)
        #expect(b.getInteger(at: 60, endianness: .little, as: UInt32.self) == 0x0200_0000)
        #expect(b.getInteger(at: 92, endianness: .little, as: UInt32.self) == 3200)
        #expect(b.getInteger(at: 108, endianness: .little, as: UInt32.self) == 809)
        #expect(b.readableBytes - 40 >= 64)
    }

    /// The header every client sends: chunkCount 2 less than the spec's, which is not checked.
    @Test func clientsChunkCountIsAccepted() throws {
        var b = ClientMessage.pong.message.bytes()
        b.setInteger(UInt32((b.readableBytes - 16) / 8), at: 16, endianness: .little)
        #expect(try MMSMessageParser().parse(&b) != nil)
    }

    @Test func partialMessagesWaitForTheirBytes() throws {
        let whole = ClientMessage.closeFile(openFileID: 1).message.bytes()
        for cut in [0, 8, 16, 39] {
            var part = whole.getSlice(at: 0, length: cut)!
            #expect(try MMSMessageParser().parse(&part) == nil)
        }
    }

    @Test func wrongSignatureSealAndLengthsAreErrors() {
        var bad = ClientMessage.pong.message.bytes()
        bad.setInteger(UInt32(0xDEAD_BEEF), at: 4, endianness: .little)
        #expect(throws: MMSMessageParser.Malformed.signature(0xDEAD_BEEF)) { try MMSMessageParser().parse(&bad) }
        var seal = ClientMessage.pong.message.bytes()
        seal.setInteger(UInt32(0), at: 12, endianness: .little)
        #expect(throws: MMSMessageParser.Malformed.seal(0)) { try MMSMessageParser().parse(&seal) }
        var long = ClientMessage.pong.message.bytes()
        long.setInteger(UInt32(1 << 30), at: 8, endianness: .little)
        #expect(throws: MMSMessageParser.Malformed.length(1 << 30)) { try MMSMessageParser().parse(&long) }
        var short = ClientMessage.pong.message.bytes()
        short.setInteger(UInt32(8), at: 8, endianness: .little)
        #expect(throws: MMSMessageParser.Malformed.length(8)) { try MMSMessageParser().parse(&short) }
    }

    @Test func truncatedBodiesAreErrors() {
        #expect(throws: ClientMessage.Truncated.self) { try ClientMessage(MMSMessage(mid: 0x0003_0007, body: ByteBuffer(bytes: [1, 0, 0, 0]))) }
        #expect(throws: ClientMessage.Truncated.self) {
            try ClientMessage(MMSMessage(mid: 0x0003_0033, body: ByteBuffer(bytes: [0xFF, 0xFF, 0, 0])))
        }
    }

    /// The header in pieces of at most a packet: all but the last flagged 0x04, the last 0x0C,
    /// numbered from 0 (2.2.2, 3.2.5.8.1).
    @Test func headerGoesInFlaggedPieces() throws {
        let header = ByteBuffer(bytes: (0..<7000).map { UInt8($0 & 0xFF) })
        var b = ByteBuffer()
        MMSData.headerPackets(header, playIncarnation: 2, pieceSize: 3200, to: &b)
        var pieces: [MMSData] = []
        while let piece = try MMSData.parse(&b) { pieces.append(piece) }
        #expect(pieces.map(\.flags) == [0x04, 0x04, 0x0C])
        #expect(pieces.map(\.locationID) == [0, 1, 2])
        #expect(pieces.allSatisfy { $0.playIncarnation == 2 })
        var joined = ByteBuffer()
        for var p in pieces.map(\.payload) { joined.writeBuffer(&p) }
        #expect(joined == header)
    }

    @Test func resendRequestsRoundTripAndRefuseNonsense() throws {
        let request = ResendRequest(clientID: 42, sourceID: 1, sequences: [3, 7, 8])
        var b = ByteBuffer()
        request.write(to: &b)
        #expect(try ResendRequest(parsing: b) == request)
        var tooMany = ByteBuffer()
        ResendRequest(clientID: 42, sourceID: 1, sequences: Array(0..<33)).write(to: &tooMany)
        #expect(throws: MMSMessageParser.Malformed.self) { try ResendRequest(parsing: tooMany) }
        #expect(throws: MMSMessageParser.Malformed.self) { try ResendRequest(parsing: ByteBuffer(string: "GET / HTTP/1.0")) }
    }

    /// Every message with bytes flipped, cut and stretched: the parser and the decoders throw or
    /// return, never trap.
    @Test func mutatedInputNeverTraps() {
        var rng = SystemRandomNumberGenerator()
        let seeds = Self.clientMessages.map { $0.message.bytes() } + Self.serverMessages.map { $0.message.bytes() }
        for i in 0..<5000 {
            var b = seeds[i % seeds.count]
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let at = Int.random(in: 0..<b.readableBytes, using: &rng)
                b.setInteger(UInt8.random(in: 0...255, using: &rng), at: at)
            }
            if Bool.random(using: &rng) { b = b.getSlice(at: 0, length: Int.random(in: 0...b.readableBytes, using: &rng))! }
            var copy = b
            if let message = try? MMSMessageParser().parse(&copy) {
                _ = try? ClientMessage(message)
                _ = try? ServerMessage(message)
            }
            var data = b
            _ = try? MMSData.parse(&data)
            _ = try? ResendRequest(parsing: b)
        }
    }
}

extension ClientMessage: CustomTestStringConvertible {
    public var testDescription: String { "\(self)".prefix(60).description }
}

extension ServerMessage: CustomTestStringConvertible {
    public var testDescription: String { "\(self)".prefix(60).description }
}
