import NIOCore

/// The datagrams recently sent to one UDP client, kept for retransmission (MS-RTSP 3.2.5.10
/// RTP-Resend-Queue, MS-MMSP 3.2.5.13): a fixed ring indexed by sequence number, holding slices
/// of the datagrams already built, so keeping them costs no copy.
public struct ResendWindow {
    private var slots: [(sequence: UInt32, datagram: ByteBuffer)?]

    public init(capacity: Int = 1024) {
        slots = Array(repeating: nil, count: capacity)
    }

    public mutating func keep(_ datagram: ByteBuffer, sequence: UInt32) {
        slots[Int(sequence % UInt32(slots.count))] = (sequence, datagram)
    }

    /// The datagram sent with `sequence`, if it is still in the window.
    public func datagram(_ sequence: UInt32) -> ByteBuffer? {
        guard let slot = slots[Int(sequence % UInt32(slots.count))], slot.sequence == sequence else { return nil }
        return slot.datagram
    }

    public mutating func removeAll() {
        for i in slots.indices { slots[i] = nil }
    }
}
