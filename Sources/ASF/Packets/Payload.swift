import NIOCore

/// One payload of a data packet (ASF spec 5.2.3): a piece of one media object of one stream.
public struct Payload: Sendable, Equatable {
    public var streamNumber: UInt8
    public var isKeyFrame: Bool
    public var mediaObjectNumber: UInt32
    /// Byte offset of this payload in its media object; for a compressed payload, the presentation time.
    public var offsetIntoMediaObject: UInt32
    /// Replicated data (ASF spec 5.2.3.1): media object size and presentation time, then extensions.
    /// A single byte marks a compressed payload and holds the presentation time delta.
    public var replicatedData: ByteBuffer
    /// The payload bytes; for a compressed payload, the sub-payloads with their length bytes.
    public var data: ByteBuffer

    public init(streamNumber: UInt8, isKeyFrame: Bool, mediaObjectNumber: UInt32, offsetIntoMediaObject: UInt32,
                replicatedData: ByteBuffer, data: ByteBuffer) {
        self.streamNumber = streamNumber
        self.isKeyFrame = isKeyFrame
        self.mediaObjectNumber = mediaObjectNumber
        self.offsetIntoMediaObject = offsetIntoMediaObject
        self.replicatedData = replicatedData
        self.data = data
    }

    /// Compressed payloads (ASF spec 5.2.3.3) carry several whole media objects.
    public var isCompressed: Bool { replicatedData.readableBytes == 1 }

    public var mediaObjectSize: UInt32? {
        replicatedData.readableBytes >= 8 ? replicatedData.getInteger(at: replicatedData.readerIndex, endianness: .little) : nil
    }

    /// Presentation time in milliseconds, preroll included.
    public var presentationTime: UInt32? {
        if isCompressed { return offsetIntoMediaObject }
        return replicatedData.readableBytes >= 8
            ? replicatedData.getInteger(at: replicatedData.readerIndex + 4, endianness: .little) : nil
    }

    /// Whether this payload starts a media object (a frame).
    public var startsMediaObject: Bool { isCompressed || offsetIntoMediaObject == 0 }

    /// The media objects of a compressed payload; empty for an ordinary payload.
    public func subPayloads() throws -> [ByteBuffer] {
        guard isCompressed else { return [] }
        var c = ByteCursor(data, context: "compressed payload")
        var result = [ByteBuffer]()
        while !c.isAtEnd {
            let length = try c.u8()
            result.append(try c.slice(Int(length)))
        }
        return result
    }

    /// Number of media objects this payload begins: the sub-payload count, or 1 at offset 0.
    public func mediaObjectsStarted() throws -> Int {
        isCompressed ? try subPayloads().count : (offsetIntoMediaObject == 0 ? 1 : 0)
    }
}
