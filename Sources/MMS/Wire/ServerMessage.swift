import NIOCore

/// The messages the server sends (MS-MMSP 2.2.4.1 to 2.2.4.13), with the field values the spec
/// fixes and that ffmpeg, VLC and libmms need (CLIENTS.md 2.3, 2.4).
public enum ServerMessage: Equatable, Sendable {
    /// 2.2.4.2, answering Connect.
    case reportConnectedEX(hr: UInt32, serverVersion: String)
    /// 2.2.4.6: `clientID` (nCubs) identifies the client in resend requests; no packet pair.
    case reportFunnelInfo(clientID: UInt32)
    /// 2.2.4.3.
    case reportConnectedFunnel
    /// 2.2.4.4: the transport asked for cannot be used.
    case reportDisconnectedFunnel(hr: UInt32)
    /// 2.2.4.7.
    case reportOpenFile(ReportOpenFile)
    /// 2.2.4.8, before the header's Data packets.
    case reportReadBlock(hr: UInt32, playIncarnation: UInt32)
    /// 2.2.4.13.
    case reportStreamSwitch(hr: UInt32)
    /// 2.2.4.10.
    case reportStartedPlaying(hr: UInt32, playIncarnation: UInt32, openFileID: UInt32)
    /// 2.2.4.5: hr 0 at the end (or after StopPlaying), 1 when a StreamChange follows.
    case reportEndOfStream(hr: UInt32, playIncarnation: UInt32)
    /// 2.2.4.12: the next playlist entry has its own header.
    case reportStreamChange(packetSize: UInt32, headerSize: UInt32, bitRate: UInt32)
    /// 2.2.4.9: play `location` instead (an mms, mmsu or mmst URL).
    case reportRedirect(location: String)
    /// 2.2.4.1.
    case ping
    /// Any other MID (for the client's tolerance).
    case other(mid: UInt32)

    public struct ReportOpenFile: Equatable, Sendable {
        public var hr: UInt32
        public var playIncarnation: UInt32
        /// 1: every client sends 1 whatever it is given, and VLC refuses anything but 1 or 2.
        public var openFileID: UInt32
        public var attributes: UInt32
        public var durationSeconds: Double
        public var packetSize: UInt32
        public var packetCount: UInt64
        public var bitRate: UInt32
        public var headerSize: UInt32

        public static let canSeek: UInt32 = 0x0100_0000
        public static let broadcast: UInt32 = 0x0200_0000
        public static let playlist: UInt32 = 0x4000_0000

        public init(hr: UInt32 = 0, playIncarnation: UInt32, openFileID: UInt32 = 1, attributes: UInt32 = 0, durationSeconds: Double = 0,
                    packetSize: UInt32 = 0, packetCount: UInt64 = 0, bitRate: UInt32 = 0, headerSize: UInt32 = 0) {
            self.hr = hr
            self.playIncarnation = playIncarnation
            self.openFileID = openFileID
            self.attributes = attributes
            self.durationSeconds = durationSeconds
            self.packetSize = packetSize
            self.packetCount = packetCount
            self.bitRate = bitRate
            self.headerSize = headerSize
        }
    }

    enum MID {
        static let reportConnectedEX: UInt32 = 0x0004_0001
        static let reportConnectedFunnel: UInt32 = 0x0004_0002
        static let reportDisconnectedFunnel: UInt32 = 0x0004_0003
        static let reportStartedPlaying: UInt32 = 0x0004_0005
        static let reportOpenFile: UInt32 = 0x0004_0006
        static let reportReadBlock: UInt32 = 0x0004_0011
        static let reportFunnelInfo: UInt32 = 0x0004_0015
        static let ping: UInt32 = 0x0004_001B
        static let reportEndOfStream: UInt32 = 0x0004_001E
        static let reportStreamChange: UInt32 = 0x0004_0020
        static let reportStreamSwitch: UInt32 = 0x0004_0021
        static let reportRedirect: UInt32 = 0x0004_0022
    }

    /// HRESULTs the server reports (MS-ERREF 2.1).
    public enum HResult {
        public static let ok: UInt32 = 0
        /// HRESULT_FROM_WIN32(ERROR_FILE_NOT_FOUND).
        public static let fileNotFound: UInt32 = 0x8007_0002
        /// E_ACCESSDENIED.
        public static let accessDenied: UInt32 = 0x8007_0005
        /// HRESULT_FROM_WIN32(ERROR_TOO_MANY_SESS): over a player or bandwidth limit.
        public static let tooManySessions: UInt32 = 0x8007_0045
        /// E_INVALIDARG: a funnel or file id the server does not know.
        public static let invalidArgument: UInt32 = 0x8007_0057
        /// E_UNEXPECTED: a message out of order.
        public static let unexpected: UInt32 = 0x8000_FFFF
    }

    public var message: MMSMessage {
        var b = ByteBuffer()
        let mid: UInt32
        switch self {
        case let .reportConnectedEX(hr, version):
            mid = MID.reportConnectedEX
            b.writeMultipleIntegers(hr, UInt32(0xF0F0_F0EF), UInt32(0x0004_000B), UInt32(0x0003_001C), endianness: .little)
            b.writeInteger(Double(1).bitPattern, endianness: .little)
            b.writeMultipleIntegers(UInt32(1), UInt32(1), UInt32(0x8000), UInt32(0x0098_9680), endianness: .little)
            b.writeMultipleIntegers(UInt32(version.utf16.count + 1), UInt32(0), UInt32(0), UInt32(0), endianness: .little)
            b.writeUTF16String(version)
        case let .reportFunnelInfo(client):
            mid = MID.reportFunnelInfo
            b.writeMultipleIntegers(UInt32(0), UInt32(0xF0F0_F0EF), UInt32(8), UInt32(1), UInt32(0x10000), client, endianness: .little)
            b.writeMultipleIntegers(UInt32(0), UInt32(1), UInt32(0), UInt32(0), endianness: .little)
        case .reportConnectedFunnel:
            mid = MID.reportConnectedFunnel
            b.writeMultipleIntegers(UInt32(0), UInt32(0), UInt32(0), endianness: .little)
            b.writeUTF16String("Funnel Of The Gods")
        case let .reportDisconnectedFunnel(hr):
            mid = MID.reportDisconnectedFunnel
            b.writeMultipleIntegers(hr, UInt32(0), endianness: .little)
        case let .reportOpenFile(r):
            mid = MID.reportOpenFile
            b.writeMultipleIntegers(r.hr, r.playIncarnation, r.openFileID, UInt32(0), UInt32(0), r.attributes, endianness: .little)
            b.writeInteger(r.durationSeconds.bitPattern, endianness: .little)
            b.writeInteger(UInt32(r.durationSeconds.rounded(.up)), endianness: .little)
            b.writeRepeatingByte(0, count: 16)
            b.writeInteger(r.packetSize, endianness: .little)
            b.writeInteger(r.packetCount, endianness: .little)
            b.writeMultipleIntegers(r.bitRate, r.headerSize, endianness: .little)
            b.writeRepeatingByte(0, count: 36)
        case let .reportReadBlock(hr, incarnation):
            mid = MID.reportReadBlock
            b.writeMultipleIntegers(hr, incarnation, UInt32(0), endianness: .little)
        case let .reportStreamSwitch(hr):
            mid = MID.reportStreamSwitch
            b.writeInteger(hr, endianness: .little)
        case let .reportStartedPlaying(hr, incarnation, file):
            mid = MID.reportStartedPlaying
            b.writeMultipleIntegers(hr, incarnation, file, UInt32(0), endianness: .little)
            b.writeRepeatingByte(0, count: 12)
        case let .reportEndOfStream(hr, incarnation):
            mid = MID.reportEndOfStream
            b.writeMultipleIntegers(hr, incarnation, endianness: .little)
        case let .reportStreamChange(packetSize, headerSize, bitRate):
            mid = MID.reportStreamChange
            b.writeMultipleIntegers(UInt32(0), UInt32(0xFF), packetSize, headerSize, bitRate, UInt32(0), endianness: .little)
        case let .reportRedirect(location):
            mid = MID.reportRedirect
            b.writeMultipleIntegers(UInt32(0), UInt16(1), UInt16((location.utf16.count + 1) * 2), endianness: .little)
            b.writeUTF16String(location)
        case .ping:
            mid = MID.ping
            b.writeMultipleIntegers(UInt32(0), UInt32(0), endianness: .little)
        case let .other(other):
            mid = other
        }
        return MMSMessage(mid: mid, body: b)
    }

    /// Decodes what the project's client needs: the replies' hr and the values it uses.
    public init(_ message: MMSMessage) throws {
        let b = message.body
        func u32(_ offset: Int) throws -> UInt32 {
            guard let v = b.getInteger(at: b.readerIndex + offset, endianness: .little, as: UInt32.self) else {
                throw ClientMessage.Truncated(mid: message.mid)
            }
            return v
        }
        switch message.mid {
        case MID.reportConnectedEX:
            var names = b
            names.moveReaderIndex(forwardBy: min(b.readableBytes, 56))
            self = .reportConnectedEX(hr: try u32(0), serverVersion: names.readUTF16String())
        case MID.reportFunnelInfo: self = .reportFunnelInfo(clientID: try u32(20))
        case MID.reportConnectedFunnel: self = .reportConnectedFunnel
        case MID.reportDisconnectedFunnel: self = .reportDisconnectedFunnel(hr: try u32(0))
        case MID.reportOpenFile:
            let duration = Double(bitPattern: UInt64(try u32(24)) | UInt64(try u32(28)) << 32)
            self = .reportOpenFile(ReportOpenFile(hr: try u32(0), playIncarnation: try u32(4), openFileID: try u32(8), attributes: try u32(20),
                                                  durationSeconds: duration, packetSize: try u32(52),
                                                  packetCount: UInt64(try u32(56)) | UInt64(try u32(60)) << 32,
                                                  bitRate: try u32(64), headerSize: try u32(68)))
        case MID.reportReadBlock: self = .reportReadBlock(hr: try u32(0), playIncarnation: try u32(4))
        case MID.reportStreamSwitch: self = .reportStreamSwitch(hr: try u32(0))
        case MID.reportStartedPlaying: self = .reportStartedPlaying(hr: try u32(0), playIncarnation: try u32(4), openFileID: try u32(8))
        case MID.reportEndOfStream: self = .reportEndOfStream(hr: try u32(0), playIncarnation: try u32(4))
        case MID.reportStreamChange: self = .reportStreamChange(packetSize: try u32(8), headerSize: try u32(12), bitRate: try u32(16))
        case MID.reportRedirect:
            var location = b
            location.moveReaderIndex(forwardBy: min(b.readableBytes, 8))
            self = .reportRedirect(location: location.readUTF16String())
        case MID.ping: self = .ping
        default: self = .other(mid: message.mid)
        }
    }
}
