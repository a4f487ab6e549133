import Logging
import NIOCore
import Streaming

/// What every WMSP connection of a server shares.
public struct WMSPServerContext: Sendable {
    public var points: PublishingPoints
    /// Fast Start buffer beyond the preroll, and the fastest a session may be sent.
    public var fastStartBuffer: TimeAmount
    public var maximumRate: Double
    public var logger: Logger

    public init(points: PublishingPoints, fastStartBuffer: TimeAmount = .seconds(2), maximumRate: Double = 5, logger: Logger) {
        self.points = points
        self.fastStartBuffer = fastStartBuffer
        self.maximumRate = maximumRate
        self.logger = logger
    }
}
