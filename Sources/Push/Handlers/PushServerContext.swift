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
    /// Whether a PushSetup to a path no point has makes one from its Template-URL, a push point
    /// (2.2.2.1.1, 3.2.5.1).
    public var createsPoints: Bool

    public init(delivery: DeliveryContext, sessions: PushSessions = PushSessions(), idleTimeout: TimeAmount = .seconds(60),
                inactivityTimeout: TimeAmount = .seconds(120), createsPoints: Bool = false) {
        self.delivery = delivery
        self.createsPoints = createsPoints
        self.sessions = sessions
        self.idleTimeout = idleTimeout
        self.inactivityTimeout = inactivityTimeout
    }
}
