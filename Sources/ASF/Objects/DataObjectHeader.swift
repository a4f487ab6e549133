import NIOCore

/// The first 50 bytes of the Data Object (ASF spec 5.1): what precedes the data packets. Streaming
/// protocols send it with the Header Object as "the ASF header" (MS-WMSP 2.2.3.1.1, MS-MMSP 2.2.2).
public struct DataObjectHeader: Sendable, Equatable {
    public static let size = 50

    /// Object size: 50 plus the packets' bytes; 0 or 50 for a live stream of unknown length.
    public var objectSize: UInt64
    public var fileID: GUID
    public var totalDataPackets: UInt64
    public var reserved: UInt16

    public init(objectSize: UInt64, fileID: GUID, totalDataPackets: UInt64) {
        self.objectSize = objectSize
        self.fileID = fileID
        self.totalDataPackets = totalDataPackets
        reserved = 0x0101
    }

    public init(parsing bytes: ByteBuffer, origin: Int) throws {
        var c = ByteCursor(bytes, origin: origin, context: "Data Object")
        let guid = try c.guid()
        guard guid == .data else { throw ASFError("Data Object", at: origin, .unexpectedGUID(guid)) }
        objectSize = try c.u64()
        fileID = try c.guid()
        totalDataPackets = try c.u64()
        reserved = try c.u16()
        guard objectSize == 0 || objectSize >= UInt64(Self.size) else {
            throw ASFError("Data Object", at: origin + 16, .invalidSize(objectSize))
        }
    }

    public func write(to b: inout ByteBuffer) {
        b.writeGUID(.data)
        b.writeLE(objectSize)
        b.writeGUID(fileID)
        b.writeLE(totalDataPackets)
        b.writeLE(reserved)
    }
}

extension ASFHeader {
    /// "The ASF header" as streaming protocols send it: the Header Object and the Data Object's
    /// first 50 bytes. For a live stream pass a `dataObject` with unknown size and packet count.
    public func streamingHeader(dataObject: DataObjectHeader) -> ByteBuffer {
        var b = bytes
        dataObject.write(to: &b)
        return b
    }

    /// The streaming header with the Data Object's size unknown (0), as a live stream has it.
    public var streamingHeaderOfUnknownSize: ByteBuffer {
        let p = fileProperties
        return streamingHeader(dataObject: DataObjectHeader(objectSize: 0, fileID: p.fileID, totalDataPackets: p.dataPacketsCount))
    }
}
