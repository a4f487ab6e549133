import NIOCore

/// How many datagrams a session may be resent (MS-RTSP 3.2.5.10 NACKs, MS-MMSP 3.2.5.13 resend
/// requests): a token bucket, `perSecond` a second with bursts of `burst`. A client, or someone
/// forging its requests, cannot make the server send more than its stream plus this: no
/// amplification. Resends go only to the session's own address either way.
public struct ResendBudget {
    public let perSecond: Double
    public let burst: Double
    private var tokens: Double
    private var refilled: NIODeadline?
    /// Datagrams not resent for want of budget.
    public private(set) var refused = 0

    /// By default about a tenth of a 400 kbit/s stream's datagrams (40 a second), in bursts of 128.
    public init(perSecond: Double = 40, burst: Double = 128) {
        self.perSecond = perSecond
        self.burst = burst
        tokens = burst
    }

    /// How many of `wanted` datagrams may be resent now, and whether this is the session's first
    /// shortfall (the one worth a log line).
    public mutating func take(_ wanted: Int, now: NIODeadline) -> (granted: Int, firstShortfall: Bool) {
        if let refilled { tokens = min(burst, tokens + perSecond * Double((now - refilled).nanoseconds) / 1e9) }
        refilled = now
        let granted = min(wanted, Int(tokens))
        tokens -= Double(granted)
        let first = refused == 0 && granted < wanted
        refused += wanted - granted
        return (granted, first)
    }
}
