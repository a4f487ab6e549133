import NIOCore

/// File Properties Object (ASF spec 3.2).
public struct FileProperties: ASFObjectBody, Equatable {
    public static let guid = GUID.fileProperties
    public static let name = "File Properties Object"

    public struct Flags: OptionSet, Sendable, Equatable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let broadcast = Flags(rawValue: 0x1)
        public static let seekable = Flags(rawValue: 0x2)
    }

    public var fileID: GUID
    public var fileSize: UInt64
    /// 100-ns units since 1601-01-01.
    public var creationDate: UInt64
    public var dataPacketsCount: UInt64
    /// 100-ns units, preroll included.
    public var playDuration: UInt64
    public var sendDuration: UInt64
    /// Milliseconds of buffering before playback; presentation times include it.
    public var preroll: UInt64
    public var flags: Flags
    public var minimumPacketSize: UInt32
    public var maximumPacketSize: UInt32
    public var maximumBitrate: UInt32
    public var trailing: ByteBuffer

    public init(body c: inout ByteCursor) throws {
        fileID = try c.guid()
        fileSize = try c.u64()
        creationDate = try c.u64()
        dataPacketsCount = try c.u64()
        playDuration = try c.u64()
        sendDuration = try c.u64()
        preroll = try c.u64()
        flags = Flags(rawValue: try c.u32())
        minimumPacketSize = try c.u32()
        maximumPacketSize = try c.u32()
        maximumBitrate = try c.u32()
        trailing = c.rest()
    }

    public func writeBody(to b: inout ByteBuffer) {
        b.writeGUID(fileID)
        b.writeLE(fileSize)
        b.writeLE(creationDate)
        b.writeLE(dataPacketsCount)
        b.writeLE(playDuration)
        b.writeLE(sendDuration)
        b.writeLE(preroll)
        b.writeLE(flags.rawValue)
        b.writeLE(minimumPacketSize)
        b.writeLE(maximumPacketSize)
        b.writeLE(maximumBitrate)
        var t = trailing
        b.writeBuffer(&t)
    }

    /// Packet size when every packet has the same size (min == max), as streaming requires.
    public var fixedPacketSize: Int? {
        minimumPacketSize == maximumPacketSize && minimumPacketSize > 0 ? Int(minimumPacketSize) : nil
    }

    /// Playback duration in milliseconds, preroll excluded.
    public var durationMilliseconds: UInt64 {
        let total = playDuration / 10_000
        return total > preroll ? total - preroll : 0
    }
}
