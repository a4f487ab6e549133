import AsfcastServer
import Foundation
import Logging
import Streaming

/// The whole server in-process on free loopback ports, serving Media/, for the engines' tests.
public final class TestServer {
    public static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Media").path

    public let server: Server

    /// Defaults, on 127.0.0.1 with every port free, changed by `configure`.
    public init(threads: Int = 2, _ configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        var config = ServerConfiguration()
        config.bind = "127.0.0.1"
        config.httpPort = 0
        config.rtspPort = 0
        config.rtpPort = 0
        config.mmsPort = 0
        config.mediaRoot = Self.media
        configure(&config)
        var logger = Logger(label: "test")
        logger.logLevel = ProcessInfo.processInfo.environment["ASFCAST_TEST_LOG"] == nil ? .critical : .debug
        server = Server(configuration: config, logger: logger, threads: threads)
        try server.start()
    }

    deinit {
        try? server.shutdown()
    }
}

extension ServerConfiguration {
    /// Adds `/private`, serving Media/ to the user alice (password "secret") only, and
    /// `/moved`, redirecting to the same path on media2.example.com.
    public mutating func addPrivateAndMovedPoints() {
        points.append(Point(name: "private", path: "/private", source: .directory(TestServer.media),
                            access: PointAccess(users: Users(["alice": [.password("secret")]]), schemes: [.digest, .basic])))
        points.append(Point(name: "moved", path: "/moved", source: .redirect("//media2.example.com")))
    }
}

/// A media root of its own holding audio.wma, demo.wmv and mixed.wsx, which plays 2 s of each:
/// a playlist whose second entry has other streams (audio, then video and audio). Tests remove
/// it when they end.
public struct MixedPlaylistRoot {
    public let path: String

    public init() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("asfcast-mixed-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        for name in ["audio.wma", "demo.wmv"] {
            try FileManager.default.copyItem(atPath: TestServer.media + "/" + name, toPath: root.appendingPathComponent(name).path)
        }
        try #"<smil><seq><media src="audio.wma" clipEnd="2s"/><media src="demo.wmv" clipEnd="2s"/></seq></smil>"#
            .write(to: root.appendingPathComponent("mixed.wsx"), atomically: true, encoding: .utf8)
        path = root.path
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
