import NIOCore

/// One MMS message (MS-MMSP 2.2.4) as it travels in a TcpMessageHeader (2.2.3): its Message ID
/// and the fields after `chunkLen` and `MID`, padded to 8 bytes.
public struct MMSMessage: Equatable, Sendable {
    public var mid: UInt32
    public var body: ByteBuffer

    public static let sessionID: UInt32 = 0xB00B_FACE
    public static let seal: UInt32 = 0x2053_4D4D  // "MMS "
    static let headerSize = 32

    public init(mid: UInt32, body: ByteBuffer) {
        self.mid = mid
        self.body = body
    }

    /// Writes the TcpMessageHeader and the message, padding the message to a multiple of 8.
    public func write(sequence: UInt16, to b: inout ByteBuffer) {
        let fields = 8 + body.readableBytes
        let message = (fields + 7) / 8 * 8
        let total = Self.headerSize + message
        b.writeMultipleIntegers(UInt8(1), UInt8(0), UInt8(0), UInt8(0), endianness: .little)
        b.writeMultipleIntegers(Self.sessionID, UInt32(message + 16), Self.seal, UInt32(total / 8), endianness: .little)
        b.writeMultipleIntegers(sequence, UInt16(0), UInt64(0), endianness: .little)
        b.writeMultipleIntegers(UInt32(message / 8), mid, endianness: .little)
        var copy = body
        b.writeBuffer(&copy)
        b.writeRepeatingByte(0, count: message - fields)
    }

    /// The message's bytes with a header of sequence 0 (tests, the client's first message).
    public func bytes(sequence: UInt16 = 0) -> ByteBuffer {
        var b = ByteBuffer()
        write(sequence: sequence, to: &b)
        return b
    }
}

/// Splits a byte stream into MMS messages. The clients' `chunkCount` is 2 less than the spec's
/// (CLIENTS.md 2.1), and none check `chunkLen`: the length comes from `messageLength` alone.
public struct MMSMessageParser: Sendable {
    /// Longest message accepted; the largest a client sends is Logging (1490 bytes of log).
    public var maximumLength: Int

    public enum Malformed: Error, Equatable, CustomStringConvertible {
        case signature(UInt32)
        case seal(UInt32)
        case length(Int)

        public var description: String {
            switch self {
            case let .signature(id): "sessionId 0x\(String(id, radix: 16)), not 0xB00BFACE"
            case let .seal(seal): "seal 0x\(String(seal, radix: 16)), not \"MMS \""
            case let .length(length): "messageLength \(length) out of range"
            }
        }
    }

    public init(maximumLength: Int = 16 << 10) {
        self.maximumLength = maximumLength
    }

    /// The next whole message, nil until its bytes are all there.
    public func parse(_ b: inout ByteBuffer) throws -> MMSMessage? {
        guard b.readableBytes >= 16 else { return nil }
        let start = b.readerIndex
        let (session, length, seal) = b.getMultipleIntegers(at: start + 4, endianness: .little, as: (UInt32, UInt32, UInt32).self)!
        guard session == MMSMessage.sessionID else { throw Malformed.signature(session) }
        guard seal == MMSMessage.seal else { throw Malformed.seal(seal) }
        // messageLength counts from offset 16: the rest of the header (16) and the message (≥ 8).
        guard length >= 24, Int(length) <= maximumLength else { throw Malformed.length(Int(length)) }
        guard b.readableBytes >= 16 + Int(length) else { return nil }
        let mid = b.getInteger(at: start + 36, endianness: .little, as: UInt32.self)!
        let body = b.getSlice(at: start + 40, length: Int(length) - 24)!
        b.moveReaderIndex(forwardBy: 16 + Int(length))
        return MMSMessage(mid: mid, body: body)
    }
}
