import NIOCore

extension DataPacket {
    /// The packet without its padding, as MS-RTSP 2.2.1.4 and MS-WMSP 2.2.3.3 recommend: Padding
    /// Length 0 (its field kept, since GStreamer rewrites it) and an explicit Packet Length, which
    /// ffmpeg needs to find the end of a shortened packet (CLIENTS.md 3.3). Nil when the packet
    /// has no padding to remove, or so little that the Packet Length field would not fit in it
    /// (a packet must never grow past the header's maximum packet size).
    public func withoutPadding() -> DataPacket? {
        guard paddingLength > 0 || padding.readableBytes > 0 else { return nil }
        var copy = self
        copy.padding = ByteBuffer()
        copy.paddingLength = 0
        if copy.paddingLengthType == 0 { copy.lengthTypeFlags |= 1 << 3 }
        copy.lengthTypeFlags = (copy.lengthTypeFlags & ~(3 << 5)) | (2 << 5)
        let size = copy.bytes.readableBytes
        guard size < bytes.readableBytes else { return nil }
        copy.packetLength = UInt32(size)
        return copy
    }
}
