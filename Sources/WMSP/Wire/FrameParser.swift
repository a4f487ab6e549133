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

/// Splits a response body into frames; bytes may arrive in any pieces.
public struct FrameParser {
    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    private var buffer = ByteBuffer()

    public init() {}

    public mutating func append(_ bytes: ByteBuffer) {
        var b = bytes
        buffer.writeBuffer(&b)
    }

    /// The next whole frame, nil until one has arrived.
    public mutating func next() throws -> ReceivedFrame? {
        guard buffer.readableBytes >= 4 else { return nil }
        let start = buffer.readerIndex
        let marker = buffer.getInteger(at: start, as: UInt8.self)!
        guard marker & 0x7F == 0x24 else { throw Malformed(description: "framing byte \(marker)") }
        let type = buffer.getInteger(at: start + 1, as: UInt8.self)!
        let length = Int(buffer.getInteger(at: start + 2, endianness: .little, as: UInt16.self)!)
        guard buffer.readableBytes >= 4 + length else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        var body = buffer.readSlice(length: length)!
        if buffer.readableBytes == 0 { buffer.discardReadBytes() }
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
