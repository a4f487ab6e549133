import NIOCore

/// A packet of MS-WMSP 2.2.3 as received.
public struct ReceivedFrame: Sendable, Equatable {
    public var type: UInt8
    /// $H, $D, $M: the MMS data packet header fields (2.2.3.1.2) and payload.
    public var locationID: UInt32
    public var afFlags: UInt8
    public var payload: ByteBuffer
    /// $E, $C, $P: the reason.
    public var reason: UInt32?
}

/// Splits a response body into frames; bytes may arrive in any pieces. Frames come out as
/// slices of the pieces received; only a frame that straddles two pieces is copied, into a
/// buffer of its own.
public struct FrameParser {
    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The received bytes not parsed yet.
    private var current = ByteBuffer()
    /// A frame whose bytes began in an earlier piece, gathered.
    private var straddling: ByteBuffer?
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
    }

    /// The next whole frame, nil until one has arrived.
    public mutating func next() throws -> ReceivedFrame? {
        while var gathered = straddling {
            // Until its size is known: its first 4 bytes, or 8 for a $P.
            let need = try frameSize(gathered) ?? (gathered.readableBytes < 4 ? 4 : 8)
            if gathered.readableBytes >= need {
                straddling = nil
                return try frame(from: &gathered)
            }
            guard current.readableBytes > 0 else { return nil }
            var piece = current.readSlice(length: min(need - gathered.readableBytes, current.readableBytes))!
            gathered.writeBuffer(&piece)
            straddling = gathered
        }
        guard current.readableBytes > 0 else { return nil }
        let size = try frameSize(current)
        if let size, current.readableBytes >= size {
            var bytes = current
            current = ByteBuffer()
            defer { current = bytes }
            return try frame(from: &bytes)
        }
        var gathered = ByteBufferAllocator().buffer(capacity: size ?? 8)
        gathered.writeBuffer(&current)
        straddling = gathered
        current = ByteBuffer()
        return nil
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

    /// Reads one whole frame (of the size `frameSize` gave) off `bytes`.
    private mutating func frame(from bytes: inout ByteBuffer) throws -> ReceivedFrame {
        let type = bytes.getInteger(at: bytes.readerIndex + 1, as: UInt8.self)!
        if type == Frame.packetPair {
            let reason = bytes.getInteger(at: bytes.readerIndex + 4, endianness: .little, as: UInt32.self)!
            let payloadLength = Frame.packetPairPayloadLength(ordinal: packetPairs, reason: reason)
            packetPairs += 1
            bytes.moveReaderIndex(forwardBy: 8)
            return ReceivedFrame(type: type, locationID: 0, afFlags: 0, payload: bytes.readSlice(length: payloadLength)!, reason: reason)
        }
        let length = Int(bytes.getInteger(at: bytes.readerIndex + 2, endianness: .little, as: UInt16.self)!)
        bytes.moveReaderIndex(forwardBy: 4)
        var body = bytes.readSlice(length: length)!
        switch type {
        case Frame.header, Frame.data, Frame.metadata:
            guard length >= 8, let location: UInt32 = body.readInteger(endianness: .little), let _: UInt8 = body.readInteger(),
                  let flags: UInt8 = body.readInteger(), let size: UInt16 = body.readInteger(endianness: .little),
                  Int(size) == length else {
                throw Malformed(description: "MMS data packet of \(length) bytes")
            }
            return ReceivedFrame(type: type, locationID: location, afFlags: flags, payload: body, reason: nil)
        case Frame.endOfStream, Frame.streamChange:
            guard length == 4, let reason: UInt32 = body.readInteger(endianness: .little) else {
                throw Malformed(description: "notification of \(length) bytes")
            }
            return ReceivedFrame(type: type, locationID: 0, afFlags: 0, payload: ByteBuffer(), reason: reason)
        default:
            return ReceivedFrame(type: type, locationID: 0, afFlags: 0, payload: body, reason: nil)
        }
    }
}
