import NIOCore

/// Rewrites packets so that only the selected streams' payloads remain: what a delivery engine
/// sends to a client that selected a subset of streams. Packets whose every payload is kept go
/// out as the same bytes; packets with none are dropped; the rest are rebuilt at the same size.
public struct StreamFilter: Sendable, Equatable {
    public var selection: Set<UInt8>

    public init(selection: Set<UInt8>) {
        self.selection = selection
    }

    /// The packet's bytes for this selection, or nil when it carries none of the selected streams.
    /// `packetSize` is the size rebuilt packets are padded to.
    public func apply(_ packet: DataPacket, original: ByteBuffer, packetSize: Int) throws -> ByteBuffer? {
        var kept = 0
        for payload in packet.payloads where selection.contains(payload.streamNumber) { kept += 1 }
        if kept == packet.payloads.count { return original }
        if kept == 0 { return nil }
        let payloads = packet.payloads.filter { selection.contains($0.streamNumber) }
        return try PacketBuilder.build(payloads: payloads, sendTime: packet.sendTime, duration: packet.duration,
                                       packetSize: packetSize).bytes
    }
}
