import NIOCore

/// Splits a PushStart body into frames as its bytes arrive, whatever the chunking. Frames are
/// slices of the received buffers, not copies. Every length is checked: a frame is at most a
/// framing header plus 65,535 bytes, so the parser never holds more than one frame and a chunk.
public struct PushFrameParser {
    private var buffer = ByteBuffer()
    /// Bytes of the body taken so far.
    public private(set) var bytesRead = 0

    public init() {}

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public mutating func append(_ chunk: ByteBuffer) {
        bytesRead += chunk.readableBytes
        if buffer.readableBytes == 0 {
            buffer = chunk
        } else {
            var c = chunk
            buffer.writeBuffer(&c)
        }
    }

    /// Bytes received that are not yet a whole frame.
    public var pending: Int { buffer.readableBytes }

    /// The next whole frame, or nil until more bytes come.
    public mutating func next() throws -> PushFrame? {
        guard buffer.readableBytes >= PushFrame.framingSize,
              let marker = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
              let letter = buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self),
              let length = buffer.getInteger(at: buffer.readerIndex + 2, endianness: .little, as: UInt16.self)
        else { return nil }
        // 2.2.3: the first byte is 0x24; its top bit (B) must be 0 in push bodies.
        guard marker == PushFrame.marker else {
            throw Failure(description: String(format: "a frame starts with 0x%02x, not 0x24 ('$')", marker))
        }
        let size = Int(length)
        switch letter {
        case UInt8(ascii: "E"):
            // 2.2.3.4 says 4 bytes (the reason); tsukasa ends with ffmpeg's end chunk, of none
            // (PUSH.md 1.7): the end without an error.
            guard size == 4 || size == 0 else { throw Failure(description: "$E frame of \(size) bytes (4 expected)") }
        case UInt8(ascii: "C"):
            guard size >= 4 else { throw Failure(description: "$C frame of \(size) bytes, shorter than its reason") }
        case UInt8(ascii: "H"), UInt8(ascii: "D"), UInt8(ascii: "F"):
            break
        default:
            throw Failure(description: String(format: "unknown frame type 0x%02x", letter))
        }
        guard buffer.readableBytes >= PushFrame.framingSize + size else { return nil }
        buffer.moveReaderIndex(forwardBy: PushFrame.framingSize)
        let body = buffer.readSlice(length: size)!
        if buffer.readableBytes == 0 { buffer = ByteBuffer() }
        switch letter {
        case UInt8(ascii: "H"): return .header(body)
        case UInt8(ascii: "D"): return .data(body)
        case UInt8(ascii: "F"): return .filler(size)
        case UInt8(ascii: "E"): return .end(reason: body.getInteger(at: body.readerIndex, endianness: .little, as: UInt32.self) ?? 0)
        default:
            var rest = body
            let reason = rest.readInteger(endianness: .little, as: UInt32.self)!
            return .change(reason: reason, header: rest)
        }
    }
}
