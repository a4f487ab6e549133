import NIOPosix
import ServiceLifecycle
import UnixSignals

/// The server as a service of the process's ServiceGroup (swift-service-lifecycle): it starts,
/// serves until the group's graceful shutdown (SIGTERM, SIGINT), then stops as `Server.shutdown`
/// does (players get the end of their stream, archives are completed). Meanwhile SIGHUP reloads
/// the configuration (an invalid file is refused with its file:line, the running one kept) and
/// SIGUSR1 reopens the access log (logrotate's postrotate). Those two are trapped before the
/// start, so one that comes while the server starts is taken once it has. The start and the
/// stop block (they bind, and wait for the loops), so they run on NIO's thread pool.
public struct ServerService: Service {
    let server: Server

    public init(_ server: Server) {
        self.server = server
    }

    public func run() async throws {
        let server = server
        let controls = await UnixSignalsSequence(trapping: .sighup, .sigusr1)
        do {
            try await NIOThreadPool.singleton.runIfActive { try server.start() }
        } catch {
            try? await NIOThreadPool.singleton.runIfActive { try server.shutdown() }
            throw error
        }
        for await signal in controls.cancelOnGracefulShutdown() {
            if signal == .sighup {
                _ = try? await NIOThreadPool.singleton.runIfActive { try server.reload() }
            } else {
                server.reopenLogs()
            }
        }
        try await NIOThreadPool.singleton.runIfActive { try server.shutdown() }
    }
}
