import NIOCore

/// The messages a client sends (MS-MMSP 2.2.4.15 to 2.2.4.28), decoded from their fields and
/// encoded the way ffmpeg, VLC and libmms lay them out (CLIENTS.md 2.2).
public enum ClientMessage: Equatable, Sendable {
    /// 2.2.4.17: `subscriberName` names the player (`NSPlayer/7.0.0.1956; {GUID}; Host: …`).
    case connect(playIncarnation: UInt32, subscriberName: String)
    /// 2.2.4.19.
    case funnelInfo(playIncarnation: UInt32)
    /// 2.2.4.18: `funnelName` is `\\<ip>\TCP\<port>` or `\\<ip>\UDP\<port>`.
    case connectFunnel(funnelName: String)
    /// 2.2.4.21: the path, without a leading `/`; `token` carries credentials.
    case openFile(playIncarnation: UInt32, fileName: String, token: ByteBuffer)
    /// 2.2.4.23.
    case readBlock(openFileID: UInt32, playIncarnation: UInt32)
    /// 2.2.4.15.
    case cancelReadBlock(playIncarnation: UInt32)
    /// 2.2.4.28.
    case streamSwitch([StreamSwitchEntry])
    /// 2.2.4.25: the start is a locationId (packet number), an asfOffset or a position in
    /// seconds; 0 and 0xFFFFFFFF mean "not this one".
    case startPlaying(StartPlaying)
    /// 2.2.4.27.
    case stopPlaying(openFileID: UInt32, playIncarnation: UInt32)
    /// 2.2.4.16.
    case closeFile(openFileID: UInt32)
    /// 2.2.4.22.
    case pong
    /// 2.2.4.20: a CLIENT_LOG structure (2.2.1.1).
    case logging(ByteBuffer)
    /// StartStriding, SecurityResponse and any other MID.
    case unsupported(mid: UInt32)

    public struct StartPlaying: Equatable, Sendable {
        public var openFileID: UInt32
        public var position: Double
        public var asfOffset: UInt32
        public var locationID: UInt32
        public var frameOffset: UInt32
        public var playIncarnation: UInt32

        public init(openFileID: UInt32 = 1, position: Double = 0, asfOffset: UInt32 = .max, locationID: UInt32 = .max,
                    frameOffset: UInt32 = 0x00FF_FFFF, playIncarnation: UInt32 = 4) {
            self.openFileID = openFileID
            self.position = position
            self.asfOffset = asfOffset
            self.locationID = locationID
            self.frameOffset = frameOffset
            self.playIncarnation = playIncarnation
        }
    }

    public enum MID {
        static let connect: UInt32 = 0x0003_0001
        static let connectFunnel: UInt32 = 0x0003_0002
        static let openFile: UInt32 = 0x0003_0005
        static let startPlaying: UInt32 = 0x0003_0007
        static let stopPlaying: UInt32 = 0x0003_0009
        static let closeFile: UInt32 = 0x0003_000D
        static let readBlock: UInt32 = 0x0003_0015
        static let funnelInfo: UInt32 = 0x0003_0018
        static let pong: UInt32 = 0x0003_001B
        static let cancelReadBlock: UInt32 = 0x0003_0025
        static let logging: UInt32 = 0x0003_0032
        static let streamSwitch: UInt32 = 0x0003_0033
    }

    /// A body shorter than its fixed fields.
    public struct Truncated: Error, Equatable, CustomStringConvertible {
        public var mid: UInt32
        public var description: String { "message 0x\(String(mid, radix: 16)) shorter than its fields" }
    }

    public init(_ message: MMSMessage) throws {
        var b = message.body
        func u32() throws -> UInt32 {
            guard let v = b.readInteger(endianness: .little, as: UInt32.self) else { throw Truncated(mid: message.mid) }
            return v
        }
        func double() throws -> Double { Double(bitPattern: UInt64(try u32()) | UInt64(try u32()) << 32) }
        switch message.mid {
        case MID.connect:
            let incarnation = try u32()
            _ = try u32(); _ = try u32()
            self = .connect(playIncarnation: incarnation, subscriberName: b.readUTF16String())
        case MID.funnelInfo:
            self = .funnelInfo(playIncarnation: try u32())
        case MID.connectFunnel:
            for _ in 0..<5 { _ = try u32() }
            self = .connectFunnel(funnelName: b.readUTF16String())
        case MID.openFile:
            let incarnation = try u32()
            _ = try u32()
            let tokenOffset = try u32(), tokenLength = try u32()
            let names = b
            var token = ByteBuffer()
            if tokenLength > 0 {
                guard let t = names.getSlice(at: names.readerIndex + Int(tokenOffset), length: Int(tokenLength)) else { throw Truncated(mid: message.mid) }
                token = t
                b = names.getSlice(at: names.readerIndex, length: Int(tokenOffset)) ?? names
            }
            self = .openFile(playIncarnation: incarnation, fileName: b.readUTF16String(), token: token)
        case MID.readBlock:
            let file = try u32()
            for _ in 0..<9 { _ = try u32() }
            self = .readBlock(openFileID: file, playIncarnation: try u32())
        case MID.cancelReadBlock:
            self = .cancelReadBlock(playIncarnation: try u32())
        case MID.streamSwitch:
            let count = try u32()
            guard count <= 128, b.readableBytes >= 6 * Int(count) else { throw Truncated(mid: message.mid) }
            self = .streamSwitch((0..<Int(count)).map { _ in
                let (source, destination, thinning) = b.readMultipleIntegers(endianness: .little, as: (UInt16, UInt16, UInt16).self)!
                return StreamSwitchEntry(source: source, destination: destination, thinning: thinning)
            })
        case MID.startPlaying:
            let file = try u32()
            _ = try u32()
            let position = try double()
            self = .startPlaying(StartPlaying(openFileID: file, position: position, asfOffset: try u32(), locationID: try u32(),
                                              frameOffset: try u32(), playIncarnation: try u32()))
        case MID.stopPlaying:
            self = .stopPlaying(openFileID: try u32(), playIncarnation: try u32())
        case MID.closeFile:
            _ = try u32()
            self = .closeFile(openFileID: try u32())
        case MID.pong:
            self = .pong
        case MID.logging:
            self = .logging(b)
        default:
            self = .unsupported(mid: message.mid)
        }
    }

    /// The message as the project's client sends it.
    public var message: MMSMessage {
        var b = ByteBuffer()
        let mid: UInt32
        switch self {
        case let .connect(incarnation, name):
            mid = MID.connect
            b.writeMultipleIntegers(incarnation, UInt32(0x0004_000B), UInt32(0x0003_001C), endianness: .little)
            b.writeUTF16String(name)
        case let .funnelInfo(incarnation):
            mid = MID.funnelInfo
            b.writeMultipleIntegers(incarnation, UInt32(0x0004_000B), endianness: .little)
        case let .connectFunnel(name):
            mid = MID.connectFunnel
            b.writeMultipleIntegers(UInt32(0), UInt32.max, UInt32(0), UInt32(0x0098_9680), UInt32(2), endianness: .little)
            b.writeUTF16String(name)
        case let .openFile(incarnation, name, token):
            mid = MID.openFile
            let nameBytes = (name.utf16.count + 1) * 2
            b.writeMultipleIntegers(incarnation, UInt32(0), UInt32(token.readableBytes > 0 ? nameBytes : 0), UInt32(token.readableBytes), endianness: .little)
            b.writeUTF16String(name)
            var t = token
            b.writeBuffer(&t)
        case let .readBlock(file, incarnation):
            mid = MID.readBlock
            b.writeMultipleIntegers(file, UInt32(0), UInt32(0), UInt32(0x8000), UInt32.max, UInt32(0), endianness: .little)
            b.writeInteger(UInt64(0), endianness: .little)
            b.writeInteger(Double(3600).bitPattern, endianness: .little)
            b.writeMultipleIntegers(incarnation, UInt32(0), endianness: .little)
        case let .cancelReadBlock(incarnation):
            mid = MID.cancelReadBlock
            b.writeInteger(incarnation, endianness: .little)
        case let .streamSwitch(entries):
            mid = MID.streamSwitch
            b.writeInteger(UInt32(entries.count), endianness: .little)
            for e in entries { b.writeMultipleIntegers(e.source, e.destination, e.thinning, endianness: .little) }
        case let .startPlaying(s):
            mid = MID.startPlaying
            b.writeMultipleIntegers(s.openFileID, UInt32(0x0001_FFFF), endianness: .little)
            b.writeInteger(s.position.bitPattern, endianness: .little)
            b.writeMultipleIntegers(s.asfOffset, s.locationID, s.frameOffset, s.playIncarnation, endianness: .little)
        case let .stopPlaying(file, incarnation):
            mid = MID.stopPlaying
            b.writeMultipleIntegers(file, incarnation, endianness: .little)
        case let .closeFile(file):
            mid = MID.closeFile
            b.writeMultipleIntegers(UInt32(1), file, endianness: .little)
        case .pong:
            mid = MID.pong
            b.writeMultipleIntegers(UInt32(0), UInt32(0), endianness: .little)
        case let .logging(log):
            mid = MID.logging
            var l = log
            b.writeBuffer(&l)
        case let .unsupported(other):
            mid = other
        }
        return MMSMessage(mid: mid, body: b)
    }
}

/// STREAM_SWITCH_ENTRY (MS-MMSP 2.2.4.28.1): a stream to send (`destination`) and how thinned;
/// 0xFFFF for no stream.
public struct StreamSwitchEntry: Equatable, Sendable {
    public var source: UInt16
    public var destination: UInt16
    /// 0 every object, 1 key frames only, 2 none.
    public var thinning: UInt16

    public init(source: UInt16 = 0xFFFF, destination: UInt16, thinning: UInt16 = 0) {
        self.source = source
        self.destination = destination
        self.thinning = thinning
    }

    /// The streams a list of entries selects: every destination not thinned to nothing.
    public static func selection(_ entries: [StreamSwitchEntry]) -> Set<UInt8> {
        Set(entries.filter { $0.destination != 0xFFFF && $0.destination <= 127 && $0.thinning != 2 }.map { UInt8($0.destination) })
    }
}

extension ByteBuffer {
    /// UTF-16LE up to a NUL or the end.
    mutating func readUTF16String() -> String {
        var units: [UInt16] = []
        while let unit = readInteger(endianness: .little, as: UInt16.self), unit != 0 { units.append(unit) }
        return String(decoding: units, as: UTF16.self)
    }

    /// UTF-16LE and a NUL.
    mutating func writeUTF16String(_ s: String) {
        for unit in s.utf16 { writeInteger(unit, endianness: .little) }
        writeInteger(UInt16(0))
    }
}
