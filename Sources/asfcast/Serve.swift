import ArgumentParser
import AsfcastServer
import Foundation
import Logging

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

    func run() throws {
        var settings: ServerConfiguration
        do {
            settings = try config.map(ServerConfiguration.load(path:)) ?? ServerConfiguration()
        } catch let error as ServerConfiguration.Failure {
            FileHandle.standardError.write(Data("asfcast serve: \(error)\n".utf8))
            throw ExitCode(2)
        }
        if let mediaRoot { settings.mediaRoot = mediaRoot }
        if let bind { settings.bind = bind }
        if let httpPort { settings.httpPort = httpPort }
        if let rtspPort { settings.rtspPort = rtspPort }
        if let mmsPort { settings.mmsPort = mmsPort }
        if let adminPort { settings.adminPort = adminPort }

        var logger = Logger(label: "asfcast")
        logger.logLevel = Logger.Level(rawValue: settings.logLevel) ?? .info
        let server = Server(configuration: settings, logger: logger)
        do {
            try server.start()
        } catch let error as Server.BindFailure {
            FileHandle.standardError.write(Data("asfcast serve: \(error)\n".utf8))
            try? server.shutdown()
            throw ExitCode(1)
        }
        let stop: @Sendable () -> Void = { try? server.shutdown() }
        let signals = SignalHandlers([SIGTERM: stop, SIGINT: stop, SIGUSR1: { server.reopenLogs() }])
        try server.wait()
        withExtendedLifetime(signals) {}
    }
}

/// SIGTERM (systemd's stop) and SIGINT end the server cleanly; SIGUSR1 reopens the access log
/// (logrotate's postrotate). A parent may have left them blocked (test runners do), so they
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
