import Foundation
import NIOPosix
import ServerTestSupport
import Testing
@testable import LoadTest

/// A player over RTSP/UDP sends nothing on its TCP connection while it plays; its RTCP receiver
/// reports are what keep its session (MS-RTSP 3.2.2). The load tool's player sends them, so its
/// sessions outlive the server's session timeout.
struct KeepAliveTests {
    @Test func rtspUDPSessionsOutliveTheServersSessionTimeout() async throws {
        let running = try TestServer {
            $0.rtspSessionTimeoutSeconds = 10
            $0.points.append(.init(name: "live", path: "/live", source: .broadcast(["demo.wmv"], startImmediately: true)))
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let plan = LoadPlan(urls: [URL(string: "rtsp://127.0.0.1:\(running.server.rtspPort)/live")!], player: .rtspUDP, clients: 3,
                            connectRate: 10, duration: .seconds(25))
        let result = await LoadRunner(plan: plan, group: group).run()
        #expect(result.failures.isEmpty, "\(result.failures)")
        #expect(result.records.allSatisfy { $0.outcome == .stopped }, "playing at the test's end, 15 s past the timeout")
        try await group.shutdownGracefully()
    }
}
