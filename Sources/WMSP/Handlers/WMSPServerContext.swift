import Streaming

/// What every WMSP connection of a server shares: the engines' common context and the WMSP
/// sessions by Client-ID, across connections.
@dynamicMemberLookup
public struct WMSPServerContext: Sendable {
    public var delivery: DeliveryContext
    public var sessions: WMSPSessions

    public init(delivery: DeliveryContext, sessions: WMSPSessions = WMSPSessions()) {
        self.delivery = delivery
        self.sessions = sessions
    }

    public subscript<T>(dynamicMember path: KeyPath<DeliveryContext, T>) -> T { delivery[keyPath: path] }
}
