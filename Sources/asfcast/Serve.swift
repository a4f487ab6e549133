import ArgumentParser
import AsfcastServer
import Foundation
import Logging
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
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

    func run() async throws {
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
        // One ServiceGroup: SIGTERM (systemd's stop) and SIGINT shut the server down gracefully,
        // within 10 s, and 5 s more once the shutdown is cancelled; then the process exits.
        var services = ServiceGroupConfiguration(services: [.init(service: ServerService(server))],
                                                 gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        services.maximumGracefulShutdownDuration = .seconds(10)
        services.maximumCancellationDuration = .seconds(5)
        do {
            try await ServiceGroup(configuration: services).run()
        } catch let error as Server.BindFailure {
            FileHandle.standardError.write(Data("asfcast serve: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
