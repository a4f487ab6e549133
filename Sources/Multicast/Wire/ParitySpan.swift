import NIOCore

/// Forward error correction over MSB (MS-MSB 2.2.2): after every `span` data packets comes a
/// parity packet, the byte-wise XOR of the span's packets with the Error Correction Flags byte
/// and the Error Correction Data skipped, the shorter packets zero-padded to the longest. A
/// receiver missing one packet of a span XORs the rest with the parity to rebuild it (3.2.5.3).
///
/// Every packet is written with a 2-byte Error Correction Data, as ASF writers do: Type in the
/// low nibble of its first byte (1 data, 2 parity), Number in the high nibble (1...span, span+1
/// on the parity), and the Cycle in the second byte, the same for a span and its parity.
public struct ParitySpan: Sendable {
    /// The Error Correction Flags byte and its 2 bytes of data.
    public static let errorCorrectionSize = 3
    /// Number is 4 bits: the parity's span+1 must fit (MULTICAST.md §1.1).
    public static let spans = 1...14

    public let span: Int
    public private(set) var cycle: UInt8
    /// Data packets in the current span so far.
    public private(set) var count = 0
    private var parity: [UInt8] = []

    public init(span: Int, cycle: UInt8 = 0) {
        precondition(Self.spans.contains(span), "a FEC span is 1...14")
        self.span = span
        self.cycle = cycle
    }

    /// Writes this data packet's error correction fields in place and XORs it into the span;
    /// returns the parity packet when this packet completes the span. The packet must start
    /// with an Error Correction Flags byte that says 2 bytes of data (0x82), as ffmpeg and
    /// WME write.
    public mutating func add(_ packet: inout ByteBuffer) -> ByteBuffer? {
        count += 1
        let start = packet.readerIndex
        packet.setBytes([0x82, 0x01 | UInt8(count) << 4, cycle], at: start)
        let length = packet.readableBytes - Self.errorCorrectionSize
        if parity.count < length { parity.append(contentsOf: repeatElement(0, count: length - parity.count)) }
        packet.withUnsafeReadableBytes { bytes in
            parity.withUnsafeMutableBytes { sum in
                for i in 0..<length { sum[i] ^= bytes[Self.errorCorrectionSize + i] }
            }
        }
        guard count == span else { return nil }
        var out = ByteBuffer()
        out.reserveCapacity(Self.errorCorrectionSize + parity.count)
        // Opaque Data Present (0x10) marks the parity packet (2.2.2).
        out.writeBytes([0x92, 0x02 | UInt8(span + 1) << 4, cycle])
        out.writeBytes(parity)
        parity.removeAll(keepingCapacity: true)
        count = 0
        cycle &+= 1
        return out
    }

    /// Whether an ASF packet as received is a parity packet, and its cycle and number.
    public static func fields(of packet: ByteBuffer) -> (isParity: Bool, number: Int, cycle: UInt8)? {
        guard packet.readableBytes > errorCorrectionSize,
              let (flags, typeNumber, cycle) = packet.getMultipleIntegers(at: packet.readerIndex, as: (UInt8, UInt8, UInt8).self),
              flags & 0x8F == 0x82 else { return nil }
        return (flags & 0x10 != 0 && typeNumber & 0x0F == 2, Int(typeNumber >> 4), cycle)
    }

    /// The one packet a span lost, from the others and the parity: zero-padded to the span's
    /// longest packet, its error correction fields those of a data packet numbered `number`.
    public static func recover(number: Int, cycle: UInt8, from others: [ByteBuffer], parity: ByteBuffer) -> ByteBuffer {
        var bytes = Array(parity.readableBytesView.dropFirst(errorCorrectionSize))
        for packet in others {
            for (i, byte) in packet.readableBytesView.dropFirst(errorCorrectionSize).enumerated() where i < bytes.count { bytes[i] ^= byte }
        }
        var out = ByteBuffer()
        out.writeBytes([0x82, 0x01 | UInt8(truncatingIfNeeded: number) << 4, cycle])
        out.writeBytes(bytes)
        return out
    }
}
