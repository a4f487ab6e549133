/// The server's state for one RTSP session (RFC 2326 A.1, MS-RTSP 3.2.1 **State**): INIT, READY,
/// PLAYING, and MS-RTSP's extra PLAYING → READY when the stream ends (3.2.4.1). A plain value:
/// the handler checks what it can (content, transport, limits), asks the machine whether the
/// request is valid in this state, and performs the request only when it is.
public struct RTSPSessionStateMachine: Equatable, Sendable {
    public enum State: Equatable, Sendable { case initial, ready, playing }

    public enum Verdict: Equatable, Sendable {
        case accept
        /// 454 Session Not Found or 455 Method Not Valid in This State.
        case refuse(Int)
    }

    public private(set) var state = State.initial
    /// Assigned by the first SETUP (MS-RTSP 3.2.3), cleared by TEARDOWN.
    public private(set) var sessionID: String?
    /// MS-RTSP 3.2.1 Pause-Allowed-In-READY: set by an EndOfStream (see `pause`).
    private var pauseAllowedInReady = false

    public init() {}

    /// A request that names a session must name this one (MS-RTSP 3.2.5.1, RFC 2326 12.37).
    public func check(session: String?) -> Verdict {
        guard let session else { return .accept }
        return session == sessionID ? .accept : .refuse(454)
    }

    /// SelectStream using SETUP (MS-RTSP 3.2.5.6.1): valid in every state; the first one starts
    /// the session. While PLAYING it changes the selected streams without stopping.
    public mutating func setup(newSessionID: @autoclosure () -> String) -> Verdict {
        if state == .initial {
            sessionID = newSessionID()
            state = .ready
        }
        return .accept
    }

    /// Play (3.2.5.8): from READY, or again while PLAYING to seek.
    public mutating func play() -> Verdict {
        guard state != .initial else { return .refuse(455) }
        state = .playing
        pauseAllowedInReady = false
        return .accept
    }

    /// Pause (3.2.5.11): PLAYING → READY; in READY only after an EndOfStream. MS-RTSP allows it
    /// there only when the EndOfStream announced another playlist entry (3.2.1), but GStreamer
    /// pauses after the last one too and fails its teardown on a 455 (CLIENTS.md 3.4).
    public mutating func pause() -> Verdict {
        switch state {
        case .playing:
            state = .ready
            return .accept
        case .ready where pauseAllowedInReady:
            return .accept
        default:
            return .refuse(455)
        }
    }

    /// Teardown (3.2.5.17): the session ends in any state.
    public mutating func teardown() -> Verdict {
        guard state != .initial else { return .refuse(455) }
        state = .initial
        sessionID = nil
        pauseAllowedInReady = false
        return .accept
    }

    /// The last RTP packet was sent (3.2.4.1): PLAYING → READY. Returns whether the server
    /// sends EndOfStream (it does only for a playing session).
    public mutating func endOfStream() -> Bool {
        guard state == .playing else { return false }
        state = .ready
        pauseAllowedInReady = true
        return true
    }
}
