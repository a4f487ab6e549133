import NIOCore

/// A packet of MS-WMSP 2.2.3 as received.
public struct ReceivedFrame: Sendable, Equatable {
    public var type: UInt8
    /// $H, $D, $M: the MMS data packet header fields (2.2.3.1.2) and payload.
    public var locationID: UInt32
    public var afFlags: UInt8
    public var payload: ByteBuffer
    /// $E, $C: the reason.
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
            let need = try Self.frameSize(gathered) ?? 4
            if gathered.readableBytes >= need {
                straddling = nil
                return try Self.frame(from: &gathered)
            }
            guard current.readableBytes > 0 else { return nil }
            var piece = current.readSlice(length: min(need - gathered.readableBytes, current.readableBytes))!
            gathered.writeBuffer(&piece)
            straddling = gathered
        }
        guard current.readableBytes > 0 else { return nil }
        let size = try Self.frameSize(current)
        if let size, current.readableBytes >= size { return try Self.frame(from: &current) }
        var gathered = ByteBufferAllocator().buffer(capacity: size ?? 4)
        gathered.writeBuffer(&current)
        straddling = gathered
        current = ByteBuffer()
        return nil
    }

    /// A frame's whole size (4 + its length field), once its first 4 bytes are there.
    private static func frameSize(_ bytes: ByteBuffer) throws -> Int? {
        guard bytes.readableBytes >= 4 else { return nil }
        let marker = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self)!
        guard marker & 0x7F == 0x24 else { throw Malformed(description: "framing byte \(marker)") }
        return 4 + Int(bytes.getInteger(at: bytes.readerIndex + 2, endianness: .little, as: UInt16.self)!)
    }

    /// Reads one whole frame off `bytes`.
    private static func frame(from bytes: inout ByteBuffer) throws -> ReceivedFrame {
        let type = bytes.getInteger(at: bytes.readerIndex + 1, as: UInt8.self)!
        let length = Int(bytes.getInteger(at: bytes.readerIndex + 2, endianness: .little, as: UInt16.self)!)
        bytes.moveReaderIndex(forwardBy: 4)
        var body = bytes.readSlice(length: length)!
        switch type {
        case Frame.header, Frame.data, 0x4D /* M */:
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
