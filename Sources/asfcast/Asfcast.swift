import ArgumentParser

@main
struct Asfcast: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asfcast",
        abstract: "A streaming media server for ASF (Windows Media) content.",
        version: Asfcast.version,
        subcommands: [Serve.self, Probe.self, Import.self, Load.self, PushCommand.self, NSCCommand.self, TuneCommand.self]
    )

    /// What `asfcast --version` prints.
    static let version = "0.1.0"
}
