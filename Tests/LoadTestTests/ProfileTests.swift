import Foundation
import NIOCore
import NIOPosix
import ServerTestSupport
import Testing
@testable import LoadTest

/// The profiles against the server in-process, paced at real time so that content is still
/// playing when the profile acts: each seek, reopening and switch is made and answered by data.
@Suite(.serialized)
final class ProfileTests {
    let running: TestServer
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    init() throws {
        running = try TestServer {
            $0.fastStartBufferSeconds = 0
            $0.fastStartMaximumRate = 1
            $0.points.append(.init(name: "live", path: "/live", source: .broadcast(["demo.wmv"], startImmediately: true)))
        }
    }

    deinit {
        try? group.syncShutdownGracefully()
    }

    func url(_ player: LoadPlan.Player, _ path: String) -> URL {
        let server = running.server
        switch player {
        case .wmsp, .wmspPipelined, .http: return URL(string: "mmsh://127.0.0.1:\(server.httpPort)\(path)")!
        case .rtspTCP, .rtspUDP: return URL(string: "rtsp://127.0.0.1:\(server.rtspPort)\(path)")!
        case .mmst, .mmsu: return URL(string: "mms://127.0.0.1:\(server.mmsPort)\(path)")!
        }
    }

    /// Two sessions, each ending an interval after its second action (the duration is a ceiling
    /// a busy machine does not reach).
    func run(_ profile: LoadPlan.Profile, _ player: LoadPlan.Player, _ path: String, interval: TimeAmount) async -> LoadResult {
        var plan = LoadPlan(urls: [url(player, path)], player: player, clients: 2, connectRate: 50, duration: .seconds(120))
        plan.profile = profile
        plan.interval = interval
        plan.actions = 2
        return await LoadRunner(plan: plan, group: group).run()
    }

    /// Both actions of every session were made and answered, and the sessions ended after them.
    func expectActionsAnswered(_ result: LoadResult) {
        #expect(result.failures.isEmpty, "\(result.summary)")
        for record in result.records {
            #expect(record.actions == 2 && record.actionLatencies.count == 2 && record.outcome == .finished, "\(result.summary)")
        }
    }

    /// A plain HTTP download is over before its first seek would come: not in this test.
    @Test(arguments: [LoadPlan.Player.wmsp, .wmspPipelined, .rtspTCP, .rtspUDP, .mmst, .mmsu])
    func seeksAreAnsweredByDataFromTheNewPosition(player: LoadPlan.Player) async {
        let result = await run(.seek, player, "/demo.wmv", interval: .seconds(1))
        expectActionsAnswered(result)
        #expect(result.summary.contains("seek to data"))
    }

    @Test(arguments: LoadPlan.Player.allCases)
    func reopeningsAreAnsweredByData(player: LoadPlan.Player) async {
        let result = await run(.openClose, player, "/demo.wmv", interval: .seconds(1))
        expectActionsAnswered(result)
        #expect(result.records.allSatisfy { $0.rateRatio(at: result.ended) != nil })
    }

    /// multibitrate.wmv has three video bit rates with a key frame every 2 s: a switch is
    /// answered by the new stream's first payload, at its next key frame.
    @Test(arguments: LoadPlan.Profile.switchStreams.players!)
    func switchesAreAnsweredByTheNewStream(player: LoadPlan.Player) async {
        let result = await run(.switchStreams, player, "/multibitrate.wmv", interval: .milliseconds(2_500))
        expectActionsAnswered(result)
    }

    @Test func aBroadcastCannotBeSeeked() async {
        let result = await run(.seek, .wmsp, "/live", interval: .seconds(1))
        #expect(result.failures.map(\.cause) == ["not seekable (a broadcast)"])
    }
}
