import ASF
import NIOCore

/// An on-demand client's position in one file: packets are read in batches, each a slice of one
/// read, and only their send time is parsed.
public struct FileCursor: PacketSource {
    public let file: ASFFile
    private var reader: ASFFile.PacketReader

    public init(file: ASFFile, startPacket: Int = 0) {
        self.file = file
        reader = file.packets(from: startPacket, batch: 32)
    }

    public mutating func next() throws -> SourceItem? {
        guard let (number, bytes) = try reader.next() else { return nil }
        return .packet(StreamPacket(locationID: UInt32(truncatingIfNeeded: number), bytes: bytes,
                                    sendTime: try DataPacket.sendTime(of: bytes), isCleanPoint: false))
    }
}
