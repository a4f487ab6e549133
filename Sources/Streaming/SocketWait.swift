import Logging

/// An on-demand session waiting for its socket: sending stops while the socket holds more than
/// `slow_client_seconds` of the stream (its write buffer's high mark) and goes on once it
/// drains. A connection's first wait is logged; a slow client is logged once, not per wait.
public struct SocketWait {
    public private(set) var isWaiting = false
    private var hasWaited = false

    public init() {}

    /// The socket is full: sending waits.
    public mutating func begin(logger: Logger) {
        if !hasWaited { logger.notice("client slower than its stream: sending waits until its socket drains") }
        isWaiting = true
        hasWaited = true
    }

    /// Sending goes on (the socket drained, or the play ended); true when it was waiting.
    @discardableResult
    public mutating func end() -> Bool {
        defer { isWaiting = false }
        return isWaiting
    }
}
