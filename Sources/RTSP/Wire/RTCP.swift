import NIOCore

/// RTCP packets (RFC 3550 6) as the server sends and reads them: sender reports, source
/// descriptions and BYE out; receiver reports and the generic NACK of MS-RTSP 2.2.4 in.
public enum RTCP {
    public static let senderReportType: UInt8 = 200
    public static let receiverReportType: UInt8 = 201
    public static let sourceDescriptionType: UInt8 = 202
    public static let byeType: UInt8 = 203
    /// Transport-layer feedback (RFC 4585 6.2); FMT 1 is the generic NACK.
    public static let feedbackType: UInt8 = 205
    /// The CNAME suffix that ties a NACK to the retransmission stream's SSRC (MS-RTSP 2.2.4).
    public static let wmsCNAMESuffix = "@WMS:7ff42e07-3c7c-4eb5-9c17-6bdd11ad90de"

    /// One reception report block (RFC 3550 6.4.1): what a receiver says it got.
    public struct ReceptionReport: Equatable, Sendable {
        public var ssrc: UInt32
        public var fractionLost: UInt8
        /// Signed (RFC 3550 6.4.1): duplicates can make it negative.
        public var cumulativeLost: Int32
        public var highestSequence: UInt32
        public var jitter: UInt32
    }

    /// What the server acts on in a compound packet.
    public enum Message: Equatable, Sendable {
        case senderReport(ssrc: UInt32)
        case receiverReport(ssrc: UInt32, reports: [ReceptionReport])
        case sourceDescription(cnames: [UInt32: String])
        case bye(ssrcs: [UInt32])
        /// Generic NACK: the lost sequence numbers, expanded from PID and BLP.
        case nack(sender: UInt32, media: UInt32, lost: [UInt16])
        case other(type: UInt8)
    }

    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// The messages of a compound RTCP packet; every length is checked against the bytes present.
    public static func parse(_ packet: ByteBuffer) throws -> [Message] {
        var b = packet
        var messages: [Message] = []
        while b.readableBytes > 0 {
            guard let first = b.readInteger(as: UInt8.self), let type = b.readInteger(as: UInt8.self),
                  let words = b.readInteger(as: UInt16.self) else { throw Malformed(description: "RTCP header truncated") }
            guard first >> 6 == 2 else { throw Malformed(description: "RTCP version \(first >> 6)") }
            guard var body = b.readSlice(length: Int(words) * 4) else {
                throw Malformed(description: "RTCP length \(Int(words) * 4) over the \(b.readableBytes) bytes present")
            }
            let count = Int(first & 0x1F)
            switch type {
            case senderReportType:
                guard let ssrc = body.readInteger(as: UInt32.self) else { throw Malformed(description: "SR truncated") }
                messages.append(.senderReport(ssrc: ssrc))
            case receiverReportType:
                guard let ssrc = body.readInteger(as: UInt32.self) else { throw Malformed(description: "RR truncated") }
                var reports: [ReceptionReport] = []
                for _ in 0..<count {
                    guard let source = body.readInteger(as: UInt32.self), let lost = body.readInteger(as: UInt32.self),
                          let highest = body.readInteger(as: UInt32.self), let jitter = body.readInteger(as: UInt32.self),
                          body.readSlice(length: 8) != nil else { throw Malformed(description: "RR report block truncated") }
                    reports.append(ReceptionReport(ssrc: source, fractionLost: UInt8(lost >> 24), cumulativeLost: Int32(bitPattern: lost << 8) >> 8,
                                                   highestSequence: highest, jitter: jitter))
                }
                messages.append(.receiverReport(ssrc: ssrc, reports: reports))
            case sourceDescriptionType:
                messages.append(.sourceDescription(cnames: try cnames(in: &body, chunks: count)))
            case byeType:
                var ssrcs: [UInt32] = []
                for _ in 0..<count {
                    guard let ssrc = body.readInteger(as: UInt32.self) else { throw Malformed(description: "BYE truncated") }
                    ssrcs.append(ssrc)
                }
                messages.append(.bye(ssrcs: ssrcs))
            case feedbackType where first & 0x0F == 1:  // MS-RTSP 2.2.4: a 4-bit FMT; the fifth bit is E
                guard let sender = body.readInteger(as: UInt32.self), let media = body.readInteger(as: UInt32.self) else {
                    throw Malformed(description: "NACK truncated")
                }
                var lost: [UInt16] = []
                while let pid = body.readInteger(as: UInt16.self), let mask = body.readInteger(as: UInt16.self) {
                    lost.append(pid)
                    for bit in 0..<16 where mask & (1 << bit) != 0 { lost.append(pid &+ UInt16(bit + 1)) }
                }
                messages.append(.nack(sender: sender, media: media, lost: lost))
            default:
                messages.append(.other(type: type))
            }
        }
        return messages
    }

    private static func cnames(in body: inout ByteBuffer, chunks: Int) throws -> [UInt32: String] {
        var result: [UInt32: String] = [:]
        for _ in 0..<chunks {
            guard let ssrc = body.readInteger(as: UInt32.self) else { throw Malformed(description: "SDES chunk truncated") }
            var consumed = 0
            while true {
                guard let item = body.readInteger(as: UInt8.self) else { throw Malformed(description: "SDES item truncated") }
                consumed += 1
                if item == 0 { break }
                guard let length = body.readInteger(as: UInt8.self), let text = body.readString(length: Int(length)) else {
                    throw Malformed(description: "SDES item over the bytes present")
                }
                consumed += 1 + Int(length)
                if item == 1 { result[ssrc] = text }
            }
            // Chunks end on a 32-bit boundary (RFC 3550 6.5).
            let pad = (4 - consumed % 4) % 4
            guard body.readSlice(length: pad) != nil else { throw Malformed(description: "SDES padding truncated") }
        }
        return result
    }

    // MARK: Building

    /// A sender report without report blocks (RFC 3550 6.4.1).
    public static func writeSenderReport(ssrc: UInt32, ntp: UInt64, rtpTime: UInt32, packets: UInt32, octets: UInt32, to b: inout ByteBuffer) {
        b.writeInteger(UInt8(0x80))
        b.writeInteger(senderReportType)
        b.writeInteger(UInt16(6))
        b.writeInteger(ssrc)
        b.writeInteger(ntp)
        b.writeInteger(rtpTime)
        b.writeInteger(packets)
        b.writeInteger(octets)
    }

    /// A receiver report without report blocks.
    public static func writeReceiverReport(ssrc: UInt32, to b: inout ByteBuffer) {
        b.writeInteger(UInt8(0x80))
        b.writeInteger(receiverReportType)
        b.writeInteger(UInt16(1))
        b.writeInteger(ssrc)
    }

    /// One SDES chunk with a CNAME, which every compound packet carries (RFC 3550 6.1).
    public static func writeSourceDescription(ssrc: UInt32, cname: String, to b: inout ByteBuffer) {
        let text = Array(cname.utf8.prefix(255))
        let chunk = 4 + 2 + text.count + 1
        let padded = (chunk + 3) / 4 * 4
        b.writeInteger(UInt8(0x81))
        b.writeInteger(sourceDescriptionType)
        b.writeInteger(UInt16(padded / 4))
        b.writeInteger(ssrc)
        b.writeInteger(UInt8(1))
        b.writeInteger(UInt8(text.count))
        b.writeBytes(text)
        b.writeRepeatingByte(0, count: padded - chunk + 1)
    }

    public static func writeBye(ssrc: UInt32, to b: inout ByteBuffer) {
        b.writeInteger(UInt8(0x81))
        b.writeInteger(byeType)
        b.writeInteger(UInt16(1))
        b.writeInteger(ssrc)
    }

    /// A generic NACK (MS-RTSP 2.2.4: E set, FMT 1) for `lost`, packed into PID/BLP pairs.
    public static func writeNACK(sender: UInt32, media: UInt32, lost: [UInt16], to b: inout ByteBuffer) {
        var pairs: [(UInt16, UInt16)] = []
        for sequence in lost.sorted() {
            if let last = pairs.last, sequence &- last.0 >= 1, sequence &- last.0 <= 16 {
                pairs[pairs.count - 1].1 |= 1 << (sequence &- last.0 - 1)
            } else if pairs.last?.0 != sequence {
                pairs.append((sequence, 0))
            }
        }
        b.writeInteger(UInt8(0x80 | 0x10 | 1))
        b.writeInteger(feedbackType)
        b.writeInteger(UInt16(2 + pairs.count))
        b.writeInteger(sender)
        b.writeInteger(media)
        for (pid, mask) in pairs {
            b.writeInteger(pid)
            b.writeInteger(mask)
        }
    }

    /// NTP time (RFC 3550 4) of a wall-clock instant in nanoseconds since 1970.
    public static func ntpTime(unixNanoseconds: Int64) -> UInt64 {
        let seconds = UInt64(unixNanoseconds / 1_000_000_000) + 2_208_988_800
        let fraction = UInt64(unixNanoseconds % 1_000_000_000) << 32 / 1_000_000_000
        return seconds << 32 | fraction
    }
}
