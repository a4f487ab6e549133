import ArgumentParser

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the streaming server.")

    @Option(help: "Directory served by the default on-demand publishing point.")
    var mediaRoot = "Media"

    func run() throws {
        print("asfcast serve: no delivery engine is implemented yet (media root: \(mediaRoot)).")
        print("Use `asfcast probe` and `asfcast import` meanwhile.")
        throw ExitCode(1)
    }
}
