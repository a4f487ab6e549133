import NIOCore

/// A packet of MS-WMSP 2.2.3 as received.
public struct ReceivedFrame: Sendable, Equatable {
    public var type: UInt8
    /// $H, $D, $M: the MMS data packet header fields (2.2.3.1.2) and payload.
    public var locationID: UInt32
    public var afFlags: UInt8
    /// The payload, or its first bytes when it was not read whole (`FrameParser.next(readingWhole:)`).
    public var payload: ByteBuffer
    /// The payload's length as sent.
    public var payloadLength: Int
    /// $E, $C, $P: the reason.
    public var reason: UInt32?

    public init(type: UInt8, locationID: UInt32, afFlags: UInt8, payload: ByteBuffer, payloadLength: Int? = nil, reason: UInt32?) {
        self.type = type
        self.locationID = locationID
        self.afFlags = afFlags
        self.payload = payload
        self.payloadLength = payloadLength ?? payload.readableBytes
        self.reason = reason
    }
}

/// Splits a response body into frames; bytes may arrive in any pieces. Frames come out as
/// slices of the pieces received. Only the start of a frame that straddles two pieces is
/// copied: the frame whole when it is read whole, else the bytes its payload prefix needs.
public struct FrameParser {
    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The payload bytes a frame not read whole comes with: enough for a data packet's fields
    /// up to its first payload's stream number (ASF 5.2).
    public static let payloadPrefix = 64

    /// The received bytes not parsed yet.
    private var current = ByteBuffer()
    /// The start of a frame whose bytes began in an earlier piece, gathered.
    private var gathered = ByteBuffer()
    /// The bytes of the last frame still to pass over: the rest of a payload not read whole.
    private var skipping = 0
    /// The $P packets read so far: their sizes follow from their order (2.2.3.7).
    private var packetPairs = 0

    public init() {}

    public mutating func append(_ bytes: ByteBuffer) {
        if current.readableBytes == 0 {
            current = bytes
        } else {
            var b = bytes
            current.writeBuffer(&b)
        }
        passOver()
    }

    /// The next whole frame, nil until one has arrived.
    public mutating func next() throws -> ReceivedFrame? {
        try next(readingWhole: { _ in true })
    }

    /// The next frame, nil until enough of it has arrived: its payload whole when
    /// `whole(type)`, else its first `payloadPrefix` bytes, and the rest is passed over as it
    /// arrives, never gathered.
    public mutating func next(readingWhole whole: (UInt8) throws -> Bool) throws -> ReceivedFrame? {
        guard skipping == 0 else { return nil }
        if gathered.readableBytes == 0, let (size, kept) = try extent(of: current, whole), current.readableBytes >= kept {
            return try take(current.readSlice(length: kept)!, of: size)
        }
        while true {
            let extent = try extent(of: gathered, whole)
            if let (size, kept) = extent, gathered.readableBytes >= kept {
                return try take(gathered.readSlice(length: kept)!, of: size)
            }
            guard current.readableBytes > 0 else { return nil }
            // Until its size is known: its first 4 bytes, or 8 for a $P.
            let need = extent?.kept ?? (gathered.readableBytes < 4 ? 4 : 8)
            // The last frame gathered is read: its storage is reused once that frame is gone.
            if gathered.readableBytes == 0 { gathered.clear() }
            var piece = current.readSlice(length: min(need - gathered.readableBytes, current.readableBytes))!
            gathered.writeBuffer(&piece)
        }
    }

    private mutating func passOver() {
        let n = min(skipping, current.readableBytes)
        current.moveReaderIndex(forwardBy: n)
        skipping -= n
    }

    /// A frame's whole size and the bytes of it to read, once enough of it is there to say.
    private func extent(of bytes: ByteBuffer, _ whole: (UInt8) throws -> Bool) throws -> (size: Int, kept: Int)? {
        guard let size = try frameSize(bytes) else { return nil }
        let type = bytes.getInteger(at: bytes.readerIndex + 1, as: UInt8.self)!
        let head = type == Frame.packetPair ? 8 : type == Frame.header || type == Frame.data || type == Frame.metadata ? 12 : 4
        return (size, try whole(type) ? size : min(size, head + Self.payloadPrefix))
    }

    /// A frame's whole size, once enough of it is there: 4 + its length field, but for $P, whose
    /// length field is not its length (2.2.3.7), 8 + the payload its order and Reason give.
    private func frameSize(_ bytes: ByteBuffer) throws -> Int? {
        guard bytes.readableBytes >= 4 else { return nil }
        let marker = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self)!
        guard marker & 0x7F == 0x24 else { throw Malformed(description: "framing byte \(marker)") }
        guard bytes.getInteger(at: bytes.readerIndex + 1, as: UInt8.self) == Frame.packetPair else {
            return 4 + Int(bytes.getInteger(at: bytes.readerIndex + 2, endianness: .little, as: UInt16.self)!)
        }
        guard packetPairs < 3 else { throw Malformed(description: "more than three $P packets") }
        guard let reason = bytes.getInteger(at: bytes.readerIndex + 4, endianness: .little, as: UInt32.self) else { return nil }
        return 8 + Frame.packetPairPayloadLength(ordinal: packetPairs, reason: reason)
    }

    /// The frame whose first bytes (all of them or its payload prefix) are `frame` and whose
    /// size is `size`; the rest is passed over.
    private mutating func take(_ frame: ByteBuffer, of size: Int) throws -> ReceivedFrame {
        var frame = frame
        skipping = size - frame.readableBytes
        passOver()
        let type = frame.getInteger(at: frame.readerIndex + 1, as: UInt8.self)!
        if type == Frame.packetPair {
            let reason = frame.getInteger(at: frame.readerIndex + 4, endianness: .little, as: UInt32.self)!
            packetPairs += 1
            frame.moveReaderIndex(forwardBy: 8)
            return ReceivedFrame(type: type, locationID: 0, afFlags: 0, payload: frame, payloadLength: size - 8, reason: reason)
        }
        let length = size - 4
        frame.moveReaderIndex(forwardBy: 4)
        switch type {
        case Frame.header, Frame.data, Frame.metadata:
            guard length >= 8, let location: UInt32 = frame.readInteger(endianness: .little), let _: UInt8 = frame.readInteger(),
                  let flags: UInt8 = frame.readInteger(), let packetSize: UInt16 = frame.readInteger(endianness: .little),
                  Int(packetSize) == length else {
                throw Malformed(description: "MMS data packet of \(length) bytes")
            }
            return ReceivedFrame(type: type, locationID: location, afFlags: flags, payload: frame, payloadLength: length - 8, reason: nil)
        case Frame.endOfStream, Frame.streamChange:
            guard length == 4, let reason: UInt32 = frame.readInteger(endianness: .little) else {
                throw Malformed(description: "notification of \(length) bytes")
            }
            return ReceivedFrame(type: type, locationID: 0, afFlags: 0, payload: ByteBuffer(), payloadLength: 0, reason: reason)
        default:
            return ReceivedFrame(type: type, locationID: 0, afFlags: 0, payload: frame, payloadLength: length, reason: nil)
        }
    }
}
