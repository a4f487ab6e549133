import ASF
import NIOCore

/// An on-demand client's position in a file: packets are read in batches, each a slice of one read.
public struct FileCursor {
    public let file: ASFFile
    private var reader: ASFFile.PacketReader

    public init(file: ASFFile, startPacket: Int = 0) {
        self.file = file
        reader = file.packets(from: startPacket, batch: 32)
    }

    /// Number of the packet `next()` returns.
    public var position: Int { reader.position }

    public mutating func next() throws -> (number: Int, bytes: ByteBuffer)? {
        try reader.next()
    }
}
