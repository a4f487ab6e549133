import NIOCore

/// An ASF stream read front to back as it arrives, from a pipe or a file: the Header Object, the
/// start of the Data Object, then one data packet after another until the Data Object's stated
/// end, an index object, or the end of the input. What a live encoder writes to standard output
/// (`ffmpeg -f asf -`: sizes and counts 0, as it cannot go back to fill them in).
public struct ASFStreamReader {
    /// Reads exactly `count` bytes, fewer only at the end of the input.
    public typealias Read = (_ count: Int) throws -> ByteBuffer

    public let header: ASFHeader
    public let dataObject: DataObjectHeader
    public let packetSize: Int
    private let read: Read
    private var packetsLeft: UInt64?
    private var ended = false

    /// Most bytes a Header Object may have here (a generous bound against a garbage size).
    public static let maximumHeaderSize = 16 << 20

    public init(read: @escaping Read) throws {
        self.read = read
        var start = try read(30)
        guard start.readableBytes == 30 else { throw ASFError("Header Object", at: 0, .truncated(needed: 30, available: start.readableBytes)) }
        guard let size = start.getInteger(at: start.readerIndex + 16, endianness: .little, as: UInt64.self), size >= 30,
              size <= UInt64(Self.maximumHeaderSize) else {
            throw ASFError("Header Object", at: 16, .invalidSize(start.getInteger(at: start.readerIndex + 16, endianness: .little, as: UInt64.self) ?? 0))
        }
        var rest = try read(Int(size) - 30)
        guard rest.readableBytes == Int(size) - 30 else {
            throw ASFError("Header Object", at: 30, .truncated(needed: Int(size) - 30, available: rest.readableBytes))
        }
        start.writeBuffer(&rest)
        header = try ASFHeader(parsing: start)
        let data = try read(DataObjectHeader.size)
        guard data.readableBytes == DataObjectHeader.size else {
            throw ASFError("Data Object", at: Int(size), .truncated(needed: DataObjectHeader.size, available: data.readableBytes))
        }
        dataObject = try DataObjectHeader(parsing: data, origin: Int(size))
        packetSize = Int(header.fileProperties.maximumPacketSize)
        guard packetSize > 0, header.fileProperties.minimumPacketSize == header.fileProperties.maximumPacketSize else {
            throw ASFError("File Properties Object", at: 0, .invalidSize(UInt64(packetSize)))
        }
        // A stated size counts the packets; 0 (or 50) is a stream of unknown length.
        if dataObject.objectSize > UInt64(DataObjectHeader.size) {
            packetsLeft = (dataObject.objectSize - UInt64(DataObjectHeader.size)) / UInt64(packetSize)
        }
    }

    /// The next whole data packet, or nil at the end.
    public mutating func next() throws -> ByteBuffer? {
        guard !ended, packetsLeft.map({ $0 > 0 }) ?? true else { return nil }
        let packet = try read(packetSize)
        // An index object (or anything starting like one) after the packets ends them.
        if packet.readableBytes < packetSize || Self.startsIndex(packet) {
            ended = true
            return nil
        }
        packetsLeft? -= 1
        return packet
    }

    private static func startsIndex(_ bytes: ByteBuffer) -> Bool {
        var cursor = ByteCursor(bytes, context: "data packet")
        guard let guid = try? cursor.guid() else { return false }
        return guid == .simpleIndex || guid == .index
    }
}
