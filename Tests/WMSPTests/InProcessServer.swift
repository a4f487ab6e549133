import AsfcastServer
import Foundation
import Logging
import NIOCore
import NIOPosix
@testable import WMSP

/// The server in-process on a free loopback port, a client for it, and their teardown.
final class InProcessServer {
    static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Media").path

    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    let server: Server
    let client: WMSPClient

    /// Defaults, serving Media/ on 127.0.0.1, changed by `configure`.
    init(_ configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var config = ServerConfiguration()
        config.bind = "127.0.0.1"
        config.httpPort = 0
        config.rtspPort = 0
        config.mediaRoot = Self.media
        configure(&config)
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        server = Server(configuration: config, logger: logger, threads: 2)
        try server.start()
        client = WMSPClient(group: group, host: "127.0.0.1", port: server.httpPort)
    }

    deinit {
        try? server.shutdown()
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
