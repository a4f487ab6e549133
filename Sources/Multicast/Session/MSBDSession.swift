/// One MSBD connection's rules (MS-MSB 3.1.5), as a plain value: the client's REQ_CONNECT is
/// taken or refused, then its pings' answers and stream-info requests; anything else ends it.
public struct MSBDSession: Sendable {
    public enum State: Sendable, Equatable {
        case awaitingConnect
        /// Accepted: the packets go over the connection, or to the multicast group.
        case streaming(overConnection: Bool)
        case closed
    }

    public enum Action: Sendable, Equatable {
        /// RES_CONNECT with hr 0, then IND_STREAMINFO; the packets follow over the connection
        /// when `overConnection`.
        case accept(overConnection: Bool)
        /// RES_CONNECT with this hr, then the connection closes (3.1.5.1).
        case refuse(hr: UInt32)
        case pingAnswered
        /// RES_STREAMINFO (3.1.5.2).
        case sendStreamInfo
        case close(String)
    }

    /// NS_E_... "multicast not supported", as servers without a group answer flag 2 (MULTICAST.md §5).
    public static let multicastNotSupported: UInt32 = 0xC00D_001A
    /// E_INVALIDARG: flags that are neither 1 nor 2.
    public static let invalidArgument: UInt32 = 0x8007_0057

    public private(set) var state = State.awaitingConnect
    private let hasGroup: Bool

    /// - Parameter hasGroup: whether the point is sent to an IPv4 group (MSBD's only family).
    public init(hasGroup: Bool) {
        self.hasGroup = hasGroup
    }

    public mutating func receive(_ message: MSBDMessage) -> Action {
        switch (state, message) {
        case let (.awaitingConnect, .requestConnect(flags, _)):
            switch flags {
            case 1:
                state = .streaming(overConnection: true)
                return .accept(overConnection: true)
            case 2 where hasGroup:
                state = .streaming(overConnection: false)
                return .accept(overConnection: false)
            case 2:
                state = .closed
                return .refuse(hr: Self.multicastNotSupported)
            default:
                state = .closed
                return .refuse(hr: Self.invalidArgument)
            }
        case (.streaming, .responsePing):
            return .pingAnswered
        case (.streaming, .requestStreamInfo):
            return .sendStreamInfo
        default:
            let expected = state == .awaitingConnect ? "REQ_CONNECT first" : "only pings answered and stream-info requests"
            state = .closed
            return .close("an unexpected message: MSBD takes \(expected)")
        }
    }
}
