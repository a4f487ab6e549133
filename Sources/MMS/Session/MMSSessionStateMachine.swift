/// The server's state for one MMS connection (MS-MMSP 3.2.1 **State**, the order of 3.2.5):
/// Connect, then the funnel (FunnelInfo optional), then OpenFile; with a file open the header
/// (ReadBlock), stream selection and StartPlaying; StopPlaying or the end of the content go back
/// to ready; CloseFile ends it. A plain value: the handler asks it whether a message fits the
/// state, then acts.
public struct MMSSessionStateMachine: Equatable, Sendable {
    public enum State: Equatable, Sendable {
        /// Waiting for Connect (3.2.3).
        case initial
        /// Connected; waiting for the funnel (3.2.5.3).
        case connected
        /// Funnel set up; waiting for OpenFile (3.2.5.5).
        case funnelled
        /// A file is open (READY, 3.2.5.6).
        case ready
        /// STREAMING (3.2.5.11).
        case streaming
        /// CloseFile came (3.2.5.17): the connection closes.
        case closed
    }

    public enum Verdict: Equatable, Sendable {
        case accept
        /// Not valid now: answered with hr E_UNEXPECTED where the message has a report, else ignored.
        case outOfOrder
    }

    public private(set) var state = State.initial

    public init() {}

    public mutating func receive(_ message: ClientMessage) -> Verdict {
        switch (message, state) {
        case (.connect, .initial):
            state = .connected
        case (.funnelInfo, .connected), (.funnelInfo, .funnelled),
             (.connectFunnel, .connected), (.connectFunnel, .funnelled):
            break
        case (.openFile, .funnelled), (.openFile, .ready):
            break
        case (.readBlock, .ready), (.readBlock, .streaming), (.cancelReadBlock, .ready), (.cancelReadBlock, .streaming),
             (.streamSwitch, .ready), (.streamSwitch, .streaming):
            break
        case (.startPlaying, .ready), (.startPlaying, .streaming):
            state = .streaming
        case (.stopPlaying, .streaming), (.stopPlaying, .ready):
            // VLC sends StopPlaying when it pauses or seeks, playing or not (CLIENTS.md 2.2).
            state = .ready
        case (.closeFile, _) where isOpen:
            state = .closed
        case (.pong, _) where isOpen, (.logging, _) where isOpen:
            break
        default:
            return .outOfOrder
        }
        return .accept
    }

    /// Connected and not yet closed.
    private var isOpen: Bool { state != .initial && state != .closed }

    /// ConnectFunnel was answered with ReportConnectedFunnel (3.2.5.5).
    public mutating func funnelConnected() {
        if state == .connected { state = .funnelled }
    }

    /// OpenFile was answered with a file (3.2.5.6).
    public mutating func fileOpened() {
        if state == .funnelled { state = .ready }
    }

    /// The last data packet was sent (3.2.4.1): STREAMING → READY. Returns whether the server
    /// reports the end of the stream (it does only while streaming).
    public mutating func endOfStream() -> Bool {
        guard state == .streaming else { return false }
        state = .ready
        return true
    }
}
