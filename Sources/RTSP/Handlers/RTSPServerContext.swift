import Logging
import NIOCore
import Streaming

/// What every RTSP connection of a server shares.
public struct RTSPServerContext: Sendable {
    public var points: PublishingPoints
    public var fastStartBuffer: TimeAmount
    public var maximumRate: Double
    public var admission: AdmissionControl
    public var logger: Logger
    /// MS-RTSP clients switch on their Windows Media support only for a `WMServer/` server
    /// (CLIENTS.md 3.3, 3.4).
    public static let serverHeader = "WMServer/9.1.1.5000"

    public init(points: PublishingPoints, fastStartBuffer: TimeAmount, maximumRate: Double, admission: AdmissionControl, logger: Logger) {
        self.points = points
        self.fastStartBuffer = fastStartBuffer
        self.maximumRate = maximumRate
        self.admission = admission
        self.logger = logger
    }
}
