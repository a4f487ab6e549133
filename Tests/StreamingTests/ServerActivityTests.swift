import NIOConcurrencyHelpers
import Streaming
import Testing

/// The players counted across engines: each presence counts and is listed once from its arrival
/// until it is let go of, what it sends adds to its own and the server's total, and a disconnect
/// reaches the one player it names.
@Suite
struct ServerActivityTests {
    static func player(_ point: String) -> ServerActivity.Player {
        .init(protocolName: "wmsp", transport: "tcp", point: point, path: "/\(point)", client: "127.0.0.1", player: "NSPlayer/7.0")
    }

    @Test
    func aPresenceCountsOnceUntilItIsLetGoOf() {
        let activity = ServerActivity()
        var first: ServerActivity.Presence? = activity.arrive(Self.player("live")) {}
        let second = activity.arrive(Self.player("other")) {}
        #expect(activity.playersConnected == 2)
        first?.sent(1000)
        second.sent(500)
        first = nil
        #expect(activity.playersConnected == 1)
        #expect(activity.bytesSent == 1500)
        #expect(activity.snapshot.map(\.player.point) == ["other"])
        #expect(activity.snapshot.map(\.bytesSent) == [500])
        withExtendedLifetime(second) {}
    }

    @Test
    func aDisconnectReachesThePlayerItNames() throws {
        let activity = ServerActivity()
        let disconnected = NIOLockedValueBox<[String]>([])
        let players = ["a", "b"].map { name in activity.arrive(Self.player(name)) { disconnected.withLockedValue { $0.append(name) } } }
        let b = try #require(activity.snapshot.first { $0.player.point == "b" })
        #expect(activity.disconnect(b.id))
        #expect(disconnected.withLockedValue { $0 } == ["b"])
        #expect(!activity.disconnect(b.id + 100))
        withExtendedLifetime(players) {}
    }
}
