import AsfcastServer
import Foundation
import NIOCore
import NIOPosix
import ServerTestSupport
@testable import WMSP

/// The server in-process on a free loopback port, a client for it, and their teardown.
final class InProcessServer {
    static let media = TestServer.media

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    private let running: TestServer
    let client: WMSPClient
    var server: Server { running.server }

    /// Defaults, serving Media/ on 127.0.0.1, changed by `configure`.
    init(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        running = try TestServer(configure)
        client = WMSPClient(group: group, host: "127.0.0.1", port: running.server.httpPort)
    }

    deinit {
        try? group.syncShutdownGracefully()
    }
}

/// A suite with its own in-process server.
protocol ServerSuite {
    var fixture: InProcessServer { get }
}

extension ServerSuite {
    var server: Server { fixture.server }
    var client: WMSPClient { fixture.client }
    var group: EventLoopGroup { fixture.group }
}
