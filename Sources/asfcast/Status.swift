import Admin
import ArgumentParser
import AsfcastServer
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `asfcast status`: a running server's state, points, players and encoders, read from its admin API.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running server's state, publishing points and players (from its admin API).")

    @Option(help: "The server's YAML configuration: its admin_bind, admin_port and admin_token say where to ask.")
    var config = "config/asfcast.yaml"

    @Option(help: "The admin listener's URL instead (http://host:port).")
    var url: String?

    @Option(help: "The bearer token instead of the configuration's admin_token.")
    var token: String?

    @Flag(help: "Print the API's JSON documents as they are.")
    var json = false

    func run() async throws {
        var base = url
        var bearer = token
        if base == nil {
            let settings = try ServerConfiguration.load(path: config)
            guard settings.adminPort != 0 else { throw ValidationError("\(config) has no admin_port: the server has no admin API to ask") }
            let host = settings.adminBind == "0.0.0.0" || settings.adminBind == "::" ? "127.0.0.1" : settings.adminBind
            base = "http://\(host.contains(":") ? "[\(host)]" : host):\(settings.adminPort)"
            bearer = bearer ?? settings.adminToken
        }
        let fetch = { (path: String) async throws -> Data in try await Self.get(base! + path, token: bearer) }
        let (status, points, sessions, encoders) = try await (fetch("/api/v1/status"), fetch("/api/v1/points"), fetch("/api/v1/sessions"),
                                                              fetch("/api/v1/encoders"))
        if json {
            for document in [status, points, sessions, encoders] { print(String(decoding: document, as: UTF8.self)) }
            return
        }
        let decoder = AdminAPI.decoder
        let server = try decoder.decode(AdminAPI.Status.self, from: status)
        let players = try decoder.decode(AdminAPI.List<AdminAPI.Session>.self, from: sessions).items
        let rate = players.reduce(0) { $0 + $1.bitsPerSecond }
        print("asfcast \(server.version) at \(base!), up \(Self.duration(Double(server.uptimeSeconds))): \(server.players) players, \(String(format: "%.2f", rate / 1e6)) Mbit/s")
        print("\npoints:")
        let table = try decoder.decode(AdminAPI.List<AdminAPI.Point>.self, from: points).items.map { [$0.name, $0.path, $0.kind, $0.state, "\($0.players)"] }
        Self.printTable([["NAME", "PATH", "KIND", "STATE", "PLAYERS"]] + table)
        print("\nplayers:")
        Self.printTable([["ID", "PROTOCOL", "POINT", "CLIENT", "PLAYER", "CONNECTED", "KBIT/S"]] + players.map {
            ["\($0.id)", "\($0.protocol)/\($0.transport)", $0.point, $0.client, $0.player, Self.duration($0.seconds), String(format: "%.0f", $0.bitsPerSecond / 1000)]
        })
        let pushing = try decoder.decode(AdminAPI.List<AdminAPI.Encoder>.self, from: encoders).items
        if !pushing.isEmpty {
            print("\nencoders:")
            Self.printTable([["POINT", "PUSH-ID", "STATE", "CLIENT", "ENCODER", "KBIT/S IN"]] + pushing.map {
                [$0.point, $0.pushId, $0.streaming ? "streaming" : "between connections", $0.client, $0.userAgent, String(format: "%.0f", $0.bitsPerSecond / 1000)]
            })
        }
    }

    static func get(_ url: String, token: String?) async throws -> Data {
        guard let address = URL(string: url) else { throw ValidationError("not a URL: \(url)") }
        var request = URLRequest(url: address)
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        let (data, response): (Data, URLResponse)
        do {
            (data, response) = try await URLSession.shared.data(for: request)
        } catch {
            throw ValidationError("cannot reach the admin API at \(url): \(error.localizedDescription)")
        }
        let code = (response as? HTTPURLResponse)?.statusCode ?? 0
        guard code == 200 else {
            throw ValidationError(code == 401 ? "\(url): 401, the admin API wants its admin_token (--token)" : "\(url): HTTP \(code)")
        }
        return data
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds)
        return s >= 3600 ? "\(s / 3600) h \(s % 3600 / 60) min" : s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
    }

    static func printTable(_ rows: [[String]]) {
        guard let columns = rows.first?.count else { return }
        let widths = (0..<columns).map { c in rows.map { $0[c].count }.max() ?? 0 }
        for row in rows {
            print("  " + row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
    }
}
