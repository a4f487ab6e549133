import NIOCore

extension DataPacket {
    /// The packet as `size` stored bytes that state themselves: its payloads, then padding, with
    /// a WORD Padding Length that counts it and, when the packet has one, a WORD Packet Length of
    /// `size`. What a packet cut short becomes, so that it fits among the file's fixed-size
    /// packets. Nil when the payloads do not fit.
    public func padded(to size: Int) -> ByteBuffer? {
        guard size <= Int(UInt16.max) else { return nil }
        // One that fills the size already stays as it is (a field for no padding would not fit).
        if padding.readableBytes == 0, paddingLength == 0, packetLengthType == 0 || Int(packetLength) == size {
            var b = ByteBuffer()
            write(to: &b)
            if b.readableBytes == size { return b }
        }
        var copy = self
        copy.padding = ByteBuffer()
        copy.paddingLength = 0
        copy.lengthTypeFlags = copy.lengthTypeFlags & ~(3 << 3) | (2 << 3)
        if copy.packetLengthType != 0 {
            copy.lengthTypeFlags = copy.lengthTypeFlags & ~(3 << 5) | (2 << 5)
            copy.packetLength = UInt32(size)
        }
        var b = ByteBuffer()
        copy.write(to: &b)
        guard b.readableBytes <= size else { return nil }
        copy.paddingLength = UInt32(size - b.readableBytes)
        copy.padding = ByteBuffer(repeating: 0, count: size - b.readableBytes)
        copy.departures = []
        b.clear()
        copy.write(to: &b)
        return b
    }
}
