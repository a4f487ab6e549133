import NIOCore
import Streaming

/// What every RTSP connection of a server shares: the engines' common context and the RTSP
/// settings.
@dynamicMemberLookup
public struct RTSPServerContext: Sendable {
    public var delivery: DeliveryContext
    /// MS-RTSP 3.2.2 Idle-Timeout: a session that sends no request (and, over UDP, no RTCP)
    /// for this long is ended. Stated in every `Session` header.
    public var sessionTimeout: TimeAmount
    /// Largest ASF bytes per UDP datagram before an ASF packet is sent in fragments (2.2.1.3).
    public var maximumUDPBody: Int

    /// MS-RTSP clients switch on their Windows Media support only for a `WMServer/` server
    /// (CLIENTS.md 3.3, 3.4).
    public static let serverHeader = "WMServer/9.1.1.5000"
    /// The MS-RTSP 2.2.6.10 features this server implements: it sends EndOfStream, and takes
    /// SelectStream requests with a body (2.2.7.10).
    public static let supported = "com.microsoft.wm.eosmsg, com.microsoft.wm.sswitch"

    public init(delivery: DeliveryContext, sessionTimeout: TimeAmount = .seconds(60), maximumUDPBody: Int = 1400) {
        self.delivery = delivery
        self.sessionTimeout = sessionTimeout
        self.maximumUDPBody = maximumUDPBody
    }

    public subscript<T>(dynamicMember path: KeyPath<DeliveryContext, T>) -> T { delivery[keyPath: path] }
}
