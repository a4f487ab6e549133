import Logging
import Testing
@testable import Streaming

struct SocketWaitTests {
    /// Sending goes on after a wait only; ending twice or without a wait does nothing.
    @Test func aWaitEndsOnce() {
        var wait = SocketWait()
        let before = wait.end()
        wait.begin(logger: Logger(label: "test"))
        let waiting = wait.isWaiting
        let first = wait.end(), second = wait.end()
        #expect(!before && waiting && first && !second && !wait.isWaiting)
    }
}
