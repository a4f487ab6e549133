import Streaming
import Testing

/// The players counted across engines: each presence counts once from its arrival until it is
/// let go of, and what it sends adds to the server's total.
@Suite
struct ServerActivityTests {
    @Test
    func aPresenceCountsOnceUntilItIsLetGoOf() {
        let activity = ServerActivity()
        var first: ServerActivity.Presence? = activity.arrive()
        let second = activity.arrive()
        #expect(activity.playersConnected == 2)
        first?.sent(1000)
        second.sent(500)
        first = nil
        #expect(activity.playersConnected == 1)
        #expect(activity.bytesSent == 1500)
        withExtendedLifetime(second) {}
    }
}
