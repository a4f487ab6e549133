import ASF

/// What a broadcast point plays: files looped on one clock (`LoopedFiles`), or an encoder's live
/// packets (`LiveFeed`). Read only on the point's home loop.
public protocol BroadcastSource {
    /// The next packet, `.later` when none has arrived yet (live), `.ended` when none will.
    mutating func next() throws -> BroadcastItem
}

public enum BroadcastItem: Sendable {
    case packet(StreamPacket)
    /// Nothing yet: the point asks again at its next turn.
    case later
    /// The end of the broadcast: its players get the end of the stream.
    case ended
}

/// A playlist or file source played as a broadcast: its packets, until it ends. A broadcast keeps
/// one header, so headers the source announces are passed over (the server only builds
/// broadcasts of entries that share one).
public struct LoopedFiles: BroadcastSource {
    private var source: any PacketSource

    public init(_ source: any PacketSource) {
        self.source = source
    }

    public mutating func next() throws -> BroadcastItem {
        while let item = try source.next() {
            if case let .packet(packet) = item { return .packet(packet) }
        }
        return .ended
    }
}
