import ArgumentParser
import Foundation
import LoadTest
import NIOCore
import NIOPosix

struct Load: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load-test a streaming server with many simulated players.",
        discussion: """
            Starts --clients sessions at --connect-rate per second, spread over the URLs, each playing until its \
            content ends or --duration is over; prints a status line every second and a summary at the end. \
            Exits 1 when fewer than --pass-sessions of the sessions received --pass-rate of the content's \
            rate (seconds of content per second of play), 2 on bad arguments.
            """)

    @Argument(help: "URLs to play: mmsh:// or http:// (WMSP), rtsp://, mms:// or mmst:// (MMS over TCP), mmsu://; --protocol http for plain HTTP.")
    var urls: [String]

    @Option(help: "Number of sessions.")
    var clients = 1

    @Option(name: .customLong("connect-rate"), help: "Sessions started per second.")
    var connectRate = 100.0

    @Option(help: "How long the test runs, in seconds (or with s, m, h).")
    var duration = "60"

    @Option(name: .customLong("protocol"), help: "\(LoadPlan.Player.allCases.map(\.rawValue).joined(separator: ", ")); by default the URLs' scheme decides.")
    var protocolName: String?

    @Option(help: """
        What each player does: play (to the end), seek (to a random position every --interval), openclose (plays \
        --interval, closes, opens again), switch (to the content's next video bit rate, or audio stream, every --interval).
        """)
    var profile = "play"

    @Option(help: "Seconds between a profile's seeks, reopenings or switches.")
    var interval = 10.0

    @Option(help: "End each session an interval after this many seeks, reopenings or switches.")
    var actions: Int?

    @Option(name: .customLong("tolerance-ms"), help: "How late a packet may arrive after its send time before it counts as late.")
    var toleranceMilliseconds = 500

    @Option(name: .customLong("error-limit"), help: "Stop once this many sessions have failed (default: a tenth of them).")
    var errorLimit: Int?

    @Option(name: .customLong("pass-sessions"), help: "Fraction of sessions that must hold the rate.")
    var passSessions = 0.99

    @Option(name: .customLong("pass-rate"), help: "Fraction of the content's rate a session must hold.")
    var passRate = 0.95

    @Option(help: "Write the summary and the timeline as JSON to this file.")
    var json: String?

    @Option(help: "Write one CSV row per session to this file.")
    var csv: String?

    @Flag(help: "Start a new session a second after each one that ends before the test, failed or at its content's end, as a player that reconnects: the number of sessions holds.")
    var reconnect = false

    @Option(help: "Write a self-contained HTML report to this file.")
    var report: String?

    func run() async throws {
        let parsed = try urls.map { text -> URL in
            guard let url = URL(string: text), url.host != nil else { throw ValidationError("not a URL: \(text)") }
            return url
        }
        guard let player = try protocolName.map({ name -> LoadPlan.Player in
            guard let p = LoadPlan.Player(rawValue: name) else {
                throw ValidationError("unknown protocol \(name): one of \(LoadPlan.Player.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return p
        }) ?? parsed.first.flatMap(LoadPlan.player(for:)) else { throw ValidationError("cannot tell the protocol from \(urls.first ?? "no URL"): give --protocol") }
        guard let chosen = LoadPlan.Profile(rawValue: profile) else {
            throw ValidationError("unknown profile \(profile): one of \(LoadPlan.Profile.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let players = chosen.players, !players.contains(player) {
            throw ValidationError("profile \(profile) runs over \(players.map(\.rawValue).joined(separator: ", ")), not \(player.rawValue)")
        }
        guard interval > 0 else { throw ValidationError("--interval must be positive") }
        if let actions, actions < 1 { throw ValidationError("--actions must be positive") }
        guard clients > 0, connectRate > 0 else { throw ValidationError("--clients and --connect-rate must be positive") }
        var plan = LoadPlan(urls: parsed, player: player, clients: clients, connectRate: connectRate,
                            duration: try Self.seconds(duration), errorLimit: errorLimit)
        plan.profile = chosen
        plan.reconnects = reconnect
        plan.interval = .nanoseconds(Int64(interval * 1e9))
        plan.actions = actions
        plan.tolerance = .milliseconds(Int64(toleranceMilliseconds))
        plan.sessionsFraction = passSessions
        plan.rateFraction = passRate

        // The sessions' tasks run on the event loops that carry their connections: no second
        // pool of threads competing for the cores, no hop between the two (first connects came
        // 5 times sooner at 10,000 sessions).
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        let group = MultiThreadedEventLoopGroup.singleton
        let result = await LoadRunner(plan: plan, group: group).run { sample in
            FileHandle.standardError.write(Data(("\r" + sample.line + "   ").utf8))
        }
        FileHandle.standardError.write(Data("\n".utf8))
        print(result.summary)
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(result.json).write(to: URL(fileURLWithPath: json))
        }
        if let csv { try result.csv.write(toFile: csv, atomically: true, encoding: .utf8) }
        if let report { try result.html.write(toFile: report, atomically: true, encoding: .utf8) }
        if !result.passed { throw ExitCode(1) }
    }

    /// "90", "90s", "5m", "1h".
    static func seconds(_ text: String) throws -> TimeAmount {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        let unit = text.last.flatMap { units[$0] }
        guard let value = Double(unit == nil ? text : String(text.dropLast())), value > 0 else {
            throw ValidationError("--duration: seconds, or a number with s, m or h")
        }
        return .nanoseconds(Int64(value * (unit ?? 1) * 1e9))
    }
}
