import Atomics

/// What the server is doing now, across engines: the players connected and the bytes sent to
/// them. The systemd STATUS= line reads it. A play session holds a `Presence` from its first
/// packet to its end, and adds what it sends there.
public final class ServerActivity: Sendable {
    private let players = ManagedAtomic<Int>(0)
    private let bytes = ManagedAtomic<Int>(0)

    public init() {}

    public var playersConnected: Int { players.load(ordering: .relaxed) }
    /// Media and framing bytes sent to players since the start.
    public var bytesSent: Int { bytes.load(ordering: .relaxed) }

    /// A player starts playing; it is counted until its presence is let go of.
    public func arrive() -> Presence { Presence(self) }

    /// One player's place in the count: released with the session that holds it, so an engine
    /// cannot count a player twice or forget one that ended.
    public final class Presence: Sendable {
        private let activity: ServerActivity

        fileprivate init(_ activity: ServerActivity) {
            self.activity = activity
            activity.players.wrappingIncrement(ordering: .relaxed)
        }

        public func sent(_ count: Int) { activity.bytes.wrappingIncrement(by: count, ordering: .relaxed) }

        deinit { activity.players.wrappingDecrement(ordering: .relaxed) }
    }
}
