import Foundation
import NIOCore
import NIOPosix
import ServerTestSupport
import Testing
@testable import LoadTest

/// `asfcast load` against the server in-process: every protocol's player plays, and the result
/// adds up; a bad target is reported by cause.
@Suite(.serialized)
final class RunnerTests {
    let running: TestServer
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    /// Fast Start wide enough that a whole file arrives at once: the sessions end with their
    /// content, not at a duration that a busy test machine could cut short.
    init() throws {
        running = try TestServer {
            $0.fastStartBufferSeconds = 30
            $0.fastStartMaximumRate = 100
        }
    }

    deinit {
        try? group.syncShutdownGracefully()
    }

    @Test(arguments: LoadPlan.Player.allCases)
    func tenPlayersOfAFilePlay(player: LoadPlan.Player) async throws {
        let server = running.server
        let url: String
        switch player {
        case .wmsp, .wmspPipelined, .http: url = "mmsh://127.0.0.1:\(server.httpPort)/multibitrate.wmv"
        case .rtspTCP, .rtspUDP: url = "rtsp://127.0.0.1:\(server.rtspPort)/multibitrate.wmv"
        case .mmst, .mmsu: url = "mms://127.0.0.1:\(server.mmsPort)/multibitrate.wmv"
        }
        let plan = LoadPlan(urls: [URL(string: url)!], player: player, clients: 10, connectRate: 50, duration: .seconds(60))
        let result = await LoadRunner(plan: plan, group: group).run()
        // Whether the sessions hold the rate is a timing goal, measured by `make bench`; here
        // each session plays and is accounted for.
        #expect(result.records.count == 10)
        #expect(result.failures.isEmpty, "\(result.failures)")
        #expect(result.records.allSatisfy { $0.packets > 10 && $0.timeToFirstPacket != nil && $0.contentBitsPerSecond != nil },
                "\(result.summary)")
        // Every packet of the file's 93 (RTSP sends one per payload: more), then its end.
        #expect(result.records.allSatisfy { $0.outcome == .finished && ($0.packets == 93 || player == .rtspTCP || player == .rtspUDP) && $0.packets >= 93 })
        #expect(result.csv.split(separator: "\n").count == 11)
        #expect(result.html.contains("<svg") && !result.html.contains("<script"))
        #expect(try JSONEncoder().encode(result.json).count > 0)
    }

    /// With `--reconnect` a player that fails comes back a second later: the number of
    /// players holds and every failure is counted, until the test's duration.
    @Test func failedSessionsAreReplacedUntilTheEnd() async throws {
        var plan = LoadPlan(urls: [URL(string: "mmsh://127.0.0.1:\(running.server.httpPort)/missing.wmv")!], player: .wmsp,
                            clients: 2, connectRate: 100, duration: .seconds(4), errorLimit: 1000)
        plan.reconnects = true
        let result = await LoadRunner(plan: plan, group: group).run()
        // Each of the two fails at once, then once a second until the 4 s are over.
        #expect(result.records.count >= 6, "\(result.summary)")
        #expect(result.failures.map(\.cause) == ["HTTP 404"])
        #expect(result.failures.first?.count == result.records.count)
    }

    /// So does one whose content ended (a file cut short under it, say): a session that
    /// reopens its file once and ends is followed by another, none failed.
    @Test func finishedSessionsAreReplacedUntilTheEnd() async throws {
        var plan = LoadPlan(urls: [URL(string: "mmsh://127.0.0.1:\(running.server.httpPort)/demo.wmv")!], player: .wmsp,
                            clients: 2, connectRate: 100, duration: .seconds(5), errorLimit: 1000)
        plan.profile = .openClose
        plan.interval = .milliseconds(500)
        plan.actions = 1
        plan.reconnects = true
        let result = await LoadRunner(plan: plan, group: group).run()
        #expect(result.records.count >= 4, "\(result.summary)")
        #expect(result.failures.isEmpty, "\(result.summary)")
    }

    @Test func badTargetsFailByCause() async throws {
        let missing = LoadPlan(urls: [URL(string: "mmsh://127.0.0.1:\(running.server.httpPort)/missing.wmv")!], player: .wmsp,
                               clients: 3, connectRate: 100, duration: .seconds(5))
        let notFound = await LoadRunner(plan: missing, group: group).run()
        #expect(notFound.failures.map(\.cause) == ["HTTP 404"] && !notFound.passed)
        let port = try ServerSocket.freePort()
        for player in LoadPlan.Player.allCases {
            let refused = LoadPlan(urls: [URL(string: "mmst://127.0.0.1:\(port)/demo.wmv")!], player: player, clients: 3, connectRate: 100,
                                   duration: .seconds(5))
            #expect(await LoadRunner(plan: refused, group: group).run().failures.map(\.cause) == ["connection refused"], "\(player)")
        }
    }
}

/// A port nothing listens on: bound, then closed.
enum ServerSocket {
    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        return port
    }
}
