import NIOCore

extension DataPacket {
    /// The packet without its padding, as MS-RTSP 2.2.1.4 and MS-WMSP 2.2.3.3 recommend: Padding
    /// Length 0 (its field kept, since GStreamer rewrites it) and an explicit Packet Length, which
    /// ffmpeg needs to find the end of a shortened packet (CLIENTS.md 3.3). Nil when the packet
    /// has no padding to remove, or so little that the Packet Length field would not fit in it
    /// (a packet must never grow past the header's maximum packet size).
    /// `storedSize` is the packet's size as parsed, so that nothing is serialized to measure it.
    public func withoutPadding(storedSize: Int) -> DataPacket? {
        func width(_ type: UInt8) -> Int { type == 3 ? 4 : Int(type) }
        // Fields that appear or widen: a WORD padding length if there was none (GStreamer writes
        // the length of the padding it adds back there), a WORD packet length.
        let growth = (paddingLengthType == 0 ? 2 : 0) + 2 - width(packetLengthType)
        guard padding.readableBytes > growth else { return nil }
        var copy = self
        copy.padding = ByteBuffer()
        copy.paddingLength = 0
        if copy.paddingLengthType == 0 { copy.lengthTypeFlags |= 2 << 3 }
        copy.lengthTypeFlags = (copy.lengthTypeFlags & ~(3 << 5)) | (2 << 5)
        copy.packetLength = UInt32(storedSize - padding.readableBytes + growth)
        return copy
    }

    /// The two bytes after 0x82, one buffer for every packet given them.
    private static let standardErrorCorrectionData = ByteBuffer(bytes: [0, 0])

    /// Gives a packet without error correction data the standard 0x82 0 0 (ASF spec 5.2.1), which
    /// makes it 3 bytes longer: an explicit Packet Length grows with it, its field widened where
    /// it no longer holds it (which makes the packet longer again). Clamped, never overflowing.
    public mutating func addStandardErrorCorrection() {
        guard errorCorrectionFlags == nil else { return }
        errorCorrectionFlags = 0x82
        errorCorrectionData = Self.standardErrorCorrectionData
        var type = packetLengthType
        guard type != 0 else { return }
        var length = UInt64(packetLength) + 3
        while type != 3 && length > (type == 1 ? 0xFF : 0xFFFF) {
            length += type == 1 ? 1 : 2
            type += 1
        }
        lengthTypeFlags = lengthTypeFlags & ~(3 << 5) | (type << 5)
        packetLength = UInt32(clamping: length)
    }
}
