import NIOCore
import Streaming

/// What every MMS connection of a server shares: the engines' common context, the UDP socket
/// and the idle timeout.
@dynamicMemberLookup
public struct MMSServerContext: Sendable {
    public var delivery: DeliveryContext
    /// Nil when UDP data (mmsu://) is not offered.
    public var udp: MMSUDPEndpoint?
    /// A connection that is not streaming and sends nothing for this long is closed (3.2.6.2);
    /// it is pinged at half of it (3.2.6.1).
    public var idleTimeout: TimeAmount
    /// ServerVersionInfo of ReportConnectedEX (2.2.4.2).
    public static let serverVersion = "9.01.01.3814"

    public init(delivery: DeliveryContext, udp: MMSUDPEndpoint?, idleTimeout: TimeAmount = .seconds(60)) {
        self.delivery = delivery
        self.udp = udp
        self.idleTimeout = idleTimeout
    }

    public subscript<T>(dynamicMember path: KeyPath<DeliveryContext, T>) -> T { delivery[keyPath: path] }
}
