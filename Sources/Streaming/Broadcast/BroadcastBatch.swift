import NIOCore

/// One batch of a broadcast's packets, filtered for one stream selection, as every subscriber
/// with that selection on a loop receives it; and what their engines frame from it, built once
/// for all the sessions whose per-session fields (a sequence number's phase, say) are equal.
/// Lives on its relay's loop for one delivery.
public final class BroadcastBatch {
    public let packets: [StreamPacket]
    private var built: [Key: Any] = [:]

    private struct Key: Hashable {
        var format: ObjectIdentifier
        var variant: Int
    }

    public init(_ packets: [StreamPacket]) {
        self.packets = packets
    }

    /// What `build` makes of the packets for `format` (the engine's type) and `variant` (what
    /// differs between its sessions), built on first use and shared after.
    public func shared<Value>(for format: Any.Type, variant: Int, build: ([StreamPacket]) -> Value) -> Value {
        let key = Key(format: ObjectIdentifier(format), variant: variant)
        if let done = built[key] as? Value { return done }
        let value = build(packets)
        built[key] = value
        return value
    }
}
