import ArgumentParser
import AsfcastServer

@main
struct Asfcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asfcast",
        abstract: "A streaming media server for ASF (Windows Media) content.",
        version: Server.version,
        subcommands: [Serve.self, Probe.self, Import.self, Load.self, PushCommand.self, NSCCommand.self, TuneCommand.self, StatusCommand.self]
    )
}
