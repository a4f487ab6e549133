import NIOCore

/// Builds data packets in the layout Windows Media encoders use (ASF spec 5.2): error correction
/// flags 0x82 with two zero bytes, multiple payloads with WORD payload lengths, WORD padding length,
/// no explicit packet length, and the packet padded to the file's fixed packet size.
public enum PacketBuilder {
    public enum Failure: Error, Equatable {
        /// The payloads do not fit the packet size.
        case overflow(needed: Int, packetSize: Int)
        case noPayloads
    }

    /// The bytes the fixed fields take before any payload.
    static let fixedOverhead = 3 /* ECC */ + 2 /* flags */ + 2 /* padding length */ + 4 + 2 /* send time, duration */ + 1 /* payload flags */

    /// Builds a packet of exactly `packetSize` bytes; `sequence` goes unused (sequence type 0).
    public static func build(payloads: [Payload], sendTime: UInt32, duration: UInt16, packetSize: Int) throws -> DataPacket {
        guard !payloads.isEmpty, payloads.count <= 63 else { throw Failure.noPayloads }
        let layout = Layout(payloads)
        let used = fixedOverhead + payloads.reduce(0) { $0 + layout.size(of: $1) }
        guard used <= packetSize else { throw Failure.overflow(needed: used, packetSize: packetSize) }
        var padding = ByteBuffer()
        padding.writeRepeatingByte(0, count: packetSize - used)
        return DataPacket(
            errorCorrectionFlags: 0x82, errorCorrectionData: ByteBuffer(bytes: [0, 0]),
            lengthTypeFlags: 0x01 | (2 << 3), propertyFlags: layout.propertyFlags,
            packetLength: 0, sequence: 0, paddingLength: UInt32(packetSize - used),
            sendTime: sendTime, duration: duration,
            payloadFlags: UInt8(payloads.count) | (2 << 6), payloads: payloads, padding: padding)
    }

    /// The smallest field codings that hold every payload's values.
    struct Layout {
        var mediaObjectNumberType: UInt8
        var replicatedLengthType: UInt8

        init(_ payloads: [Payload]) {
            let maxNumber = payloads.map(\.mediaObjectNumber).max() ?? 0
            mediaObjectNumberType = maxNumber <= 0xFF ? 1 : maxNumber <= 0xFFFF ? 2 : 3
            let maxReplicated = payloads.map(\.replicatedData.readableBytes).max() ?? 0
            replicatedLengthType = maxReplicated <= 0xFF ? 1 : 2
        }

        /// Stream number is a BYTE (01), offset a DWORD (11).
        var propertyFlags: UInt8 { replicatedLengthType | (3 << 2) | (mediaObjectNumberType << 4) | (1 << 6) }

        func size(of p: Payload) -> Int {
            1 + Self.width(mediaObjectNumberType) + 4 + Self.width(replicatedLengthType)
                + p.replicatedData.readableBytes + 2 + p.data.readableBytes
        }

        static func width(_ type: UInt8) -> Int { type == 3 ? 4 : Int(type) }
    }
}

extension DataPacket {
    /// Memberwise, for builders.
    init(errorCorrectionFlags: UInt8?, errorCorrectionData: ByteBuffer, lengthTypeFlags: UInt8, propertyFlags: UInt8,
         packetLength: UInt32, sequence: UInt32, paddingLength: UInt32, sendTime: UInt32, duration: UInt16,
         payloadFlags: UInt8, payloads: [Payload], padding: ByteBuffer) {
        self.errorCorrectionFlags = errorCorrectionFlags
        self.errorCorrectionData = errorCorrectionData
        self.lengthTypeFlags = lengthTypeFlags
        self.propertyFlags = propertyFlags
        self.packetLength = packetLength
        self.sequence = sequence
        self.paddingLength = paddingLength
        self.sendTime = sendTime
        self.duration = duration
        self.payloadFlags = payloadFlags
        self.payloads = payloads
        self.padding = padding
    }

    /// The packet's bytes.
    public var bytes: ByteBuffer {
        var b = ByteBuffer()
        write(to: &b)
        return b
    }
}
