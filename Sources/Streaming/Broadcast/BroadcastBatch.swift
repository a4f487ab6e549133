import NIOCore

/// One batch of a broadcast's packets, filtered for one stream selection, as every subscriber
/// with that selection on a loop receives it; and what their engines frame from it, built once
/// for all the sessions whose per-session fields (a sequence number's phase, say) are equal.
/// Lives on its relay's loop for one delivery.
public final class BroadcastBatch {
    public let packets: [StreamPacket]
    private var framed: [Key: ByteBuffer] = [:]

    private struct Key: Hashable {
        var format: ObjectIdentifier
        var variant: Int
    }

    public init(_ packets: [StreamPacket]) {
        self.packets = packets
    }

    /// The bytes `build` makes of the packets for `format` (the engine's type) and `variant`
    /// (what differs between its sessions), built on first use and shared after.
    public func framed(for format: Any.Type, variant: Int, build: ([StreamPacket]) -> ByteBuffer) -> ByteBuffer {
        let key = Key(format: ObjectIdentifier(format), variant: variant)
        if let done = framed[key] { return done }
        let bytes = build(packets)
        framed[key] = bytes
        return bytes
    }
}
