import NIOCore

/// When each packet of a session is due, from its ASF send time.
///
/// Packets go out at their send time relative to the session's first packet, except that a
/// session may run up to `lead` ahead of real time (Fast Start: the preroll plus a buffer are
/// delivered at once), never faster than `maximumRate` times real time.
public struct Pacing: Sendable, Equatable {
    /// How far ahead of real time a session may be sent.
    public var lead: TimeAmount
    /// The fastest a session is sent, as a multiple of its real-time rate.
    public var maximumRate: Double
    /// Packets falling due within this much go out together, in one write (up to this early).
    public var batch = TimeAmount.zero

    public init(lead: TimeAmount, maximumRate: Double) {
        precondition(maximumRate >= 1)
        self.lead = lead
        self.maximumRate = maximumRate
    }

    /// Fast Start for a file with `preroll` ms: the preroll plus `buffer`, at up to `maximumRate`×.
    /// A preroll is a file's 64-bit field: past a minute it is taken as a minute.
    public static func fastStart(prerollMilliseconds: UInt64, buffer: TimeAmount = .seconds(2), maximumRate: Double = 5) -> Pacing {
        Pacing(lead: .milliseconds(Int64(min(prerollMilliseconds, 60_000))) + buffer, maximumRate: maximumRate)
    }

    /// Delay after the session's start at which a packet sent `offset` after the first is due.
    public func delay(forOffset offset: TimeAmount) -> TimeAmount {
        let ahead = offset - lead
        let throttled = TimeAmount.nanoseconds(Int64(Double(offset.nanoseconds) / maximumRate))
        return max(.zero, max(ahead, throttled))
    }
}
