import ArgumentParser

@main
struct Asfcast: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "asfcast",
        abstract: "A streaming media server for ASF (Windows Media) content.",
        subcommands: [Serve.self, Probe.self, Import.self]
    )
}
