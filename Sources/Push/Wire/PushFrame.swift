import NIOCore

/// One frame of a PushStart body (MS-WMHTTP 2.2.3): a 4-byte framing header, `0x24` with the B
/// bit clear, the frame's letter, and a little-endian WORD PacketLength counting the bytes after
/// it. Unlike WMSP's, push data frames have no 8-byte MMS data header (PUSH.md 1.4).
public enum PushFrame: Equatable, Sendable {
    /// `$H`: the Header Object and the 50-byte start of the Data Object (2.2.3.1).
    case header(ByteBuffer)
    /// `$D`: one ASF data packet, usually without its padding (2.2.3.2).
    case data(ByteBuffer)
    /// `$E`: the end (2.2.3.3); reason 0 done, 1 an entry done with a `$C` to follow, else an HRESULT.
    case end(reason: UInt32)
    /// `$C`: a new header follows its reason, for the next entry (2.2.3.4).
    case change(reason: UInt32, header: ByteBuffer)
    /// `$F`: filler to make the body exactly Content-Length (2.2.3.5).
    case filler(Int)

    public static let marker: UInt8 = 0x24
    public static let framingSize = 4
    /// The most a frame carries after its framing header (PacketLength is a WORD).
    public static let maximumLength = Int(UInt16.max)

    var letter: UInt8 {
        switch self {
        case .header: return UInt8(ascii: "H")
        case .data: return UInt8(ascii: "D")
        case .end: return UInt8(ascii: "E")
        case .change: return UInt8(ascii: "C")
        case .filler: return UInt8(ascii: "F")
        }
    }

    /// Bytes after the framing header.
    public var length: Int {
        switch self {
        case let .header(b), let .data(b): return b.readableBytes
        case .end: return 4
        case let .change(_, header): return 4 + header.readableBytes
        case let .filler(n): return n
        }
    }

    /// Writes the frame; its length must not exceed `maximumLength`.
    public func write(to out: inout ByteBuffer) {
        precondition(length <= Self.maximumLength, "a push frame holds at most \(Self.maximumLength) bytes")
        out.writeInteger(Self.marker)
        out.writeInteger(letter)
        out.writeInteger(UInt16(length), endianness: .little)
        switch self {
        case var .header(b), var .data(b):
            out.writeBuffer(&b)
        case let .end(reason):
            out.writeInteger(reason, endianness: .little)
        case let .change(reason, header):
            out.writeInteger(reason, endianness: .little)
            var h = header
            out.writeBuffer(&h)
        case let .filler(n):
            out.writeRepeatingByte(0, count: n)
        }
    }
}
