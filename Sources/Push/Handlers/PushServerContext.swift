import NIOCore
import Streaming

/// What every push connection of a server shares.
public struct PushServerContext: Sendable {
    public var delivery: DeliveryContext
    public var sessions: PushSessions
    /// MS-WMHTTP 3.2.2: a PushStart body silent this long is ended with 408; a session whose
    /// connection dropped is ended after it unless the encoder resumes.
    public var idleTimeout: TimeAmount
    /// Between a complete PushStart body and the next request (3.2.2, WMS: 120 to 150 s).
    public var inactivityTimeout: TimeAmount

    public init(delivery: DeliveryContext, sessions: PushSessions = PushSessions(), idleTimeout: TimeAmount = .seconds(60),
                inactivityTimeout: TimeAmount = .seconds(120)) {
        self.delivery = delivery
        self.sessions = sessions
        self.idleTimeout = idleTimeout
        self.inactivityTimeout = inactivityTimeout
    }
}
