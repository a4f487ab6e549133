import ArgumentParser
import AsfcastServer
import Foundation
import Logging
import NIOConcurrencyHelpers

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the streaming server.")

    @Option(help: "The YAML configuration file.")
    var config: String?

    @Option(help: "Directory served by the default on-demand publishing point.")
    var mediaRoot: String?

    @Option(help: "Address to listen on.")
    var bind: String?

    @Option(help: "Port for Windows Media HTTP Streaming (mmsh://, http://).")
    var httpPort: Int?

    @Option(help: "Port for RTSP.")
    var rtspPort: Int?

    @Option(help: "Port for MMS (TCP, and UDP on the same number).")
    var mmsPort: Int?

    @Option(help: "Port for the admin listener (/metrics and the JSON API); 0: none.")
    var adminPort: Int?

    /// The configuration file's settings with the flags' over them.
    func settings() throws -> ServerConfiguration {
        var settings = try config.map(ServerConfiguration.load(path:)) ?? ServerConfiguration()
        if let mediaRoot { settings.mediaRoot = mediaRoot }
        if let bind { settings.bind = bind }
        if let httpPort { settings.httpPort = httpPort }
        if let rtspPort { settings.rtspPort = rtspPort }
        if let mmsPort { settings.mmsPort = mmsPort }
        if let adminPort { settings.adminPort = adminPort }
        return settings
    }

    func run() throws {
        let settings: ServerConfiguration
        do {
            settings = try self.settings()
        } catch let error as ServerConfiguration.Failure {
            FileHandle.standardError.write(Data("asfcast serve: \(error)\n".utf8))
            throw ExitCode(2)
        }

        if JournalLogHandler.standardErrorIsTheJournal { LoggingSystem.bootstrap { JournalLogHandler(label: $0) } }
        var logger = Logger(label: "asfcast")
        logger.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
        let server = Server(configuration: settings, logger: logger)
        if config != nil {
            let command = self
            server.configurationSource = { try command.settings() }
        }
        // The handlers are in place before the start, so a stop that comes while the server
        // starts (its ports already answer) is not the signal's default action: it waits for
        // the start to end. SIGHUP: the configuration read again; an invalid file is refused
        // (logged with its file:line) and the running configuration kept.
        let started = ConditionLock(value: false)
        let once: @Sendable (@escaping @Sendable () -> Void) -> @Sendable () -> Void = { action in
            { started.lock(whenValue: true); started.unlock(); action() }
        }
        let stop = once { try? server.shutdown() }
        let signals = SignalHandlers([SIGTERM: stop, SIGINT: stop, SIGUSR1: once { server.reopenLogs() }, SIGHUP: once { _ = try? server.reload() }])
        do {
            try server.start()
        } catch let error as Server.BindFailure {
            FileHandle.standardError.write(Data("asfcast serve: \(error)\n".utf8))
            try? server.shutdown()
            throw ExitCode(1)
        }
        started.lock()
        started.unlock(withValue: true)
        try server.wait()
        withExtendedLifetime(signals) {}
    }
}

/// SIGTERM (systemd's stop) and SIGINT end the server cleanly; SIGUSR1 reopens the access log
/// (logrotate's postrotate); SIGHUP reloads the configuration (systemctl reload). A parent may have left them blocked (test runners do), so they
/// are unblocked first.
final class SignalHandlers {
    private var sources: [DispatchSourceSignal] = []

    init(_ handlers: [Int32: @Sendable () -> Void]) {
        var set = sigset_t()
        sigemptyset(&set)
        for (signal, handler) in handlers {
            sigaddset(&set, signal)
            Foundation.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            sources.append(source)
        }
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }
}
