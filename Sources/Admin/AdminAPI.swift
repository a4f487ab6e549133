import Foundation
import Hummingbird
import Streaming

/// The admin API's JSON documents (Sources/Admin/openapi.yaml is their OpenAPI description).
enum AdminAPI {
    struct Status: ResponseEncodable {
        var version: String
        var started: Date
        var uptimeSeconds: Int
        var players: Int
        var bytesSent: Int
        var points: Int
    }

    struct Point: ResponseEncodable {
        var name: String
        var path: String
        /// `ondemand`, `file`, `broadcast`, `push` or `redirect`.
        var kind: String
        /// `serving`, or for a push point `waiting for an encoder`.
        var state: String
        var players: Int
    }

    struct Session: ResponseEncodable {
        var id: Int
        var `protocol`: String
        var transport: String
        var point: String
        var path: String
        var client: String
        var player: String
        var connected: Date
        var seconds: Double
        var bytesSent: Int
        /// Bytes sent over the time connected, in bit/s.
        var bitsPerSecond: Double
    }

    struct Encoder: ResponseEncodable {
        var point: String
        var pushId: String
        /// Whether a connection streams its body now (between PushStarts, or dropped and within
        /// the Idle-Timeout, none does).
        var streaming: Bool
        /// Its address, "-" when not streaming.
        var client: String
        var userAgent: String
        var since: Date
        var bytesReceived: Int
        /// Bytes received over the time since its PushSetup, in bit/s.
        var bitsPerSecond: Double
    }

    struct Reloaded: ResponseEncodable {
        /// What changes only at the next start.
        var notes: [String]
    }

    struct List<Item: Encodable & Sendable>: ResponseEncodable {
        var items: [Item]
    }

    /// Everything at one moment: each of `/api/v1/events`'s messages, and the dashboard's first state.
    struct Snapshot: Encodable {
        var time: Date
        var status: Status
        var points: [Point]
        var sessions: [Session]
        var encoders: [Encoder]
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }()

    static func status(_ source: AdminServer.Source) -> Status {
        let activity = source.activity
        return Status(version: source.version, started: activity.started, uptimeSeconds: Int(Date().timeIntervalSince(activity.started)),
                      players: activity.playersConnected, bytesSent: activity.bytesSent, points: source.points().count)
    }

    static func points(_ source: AdminServer.Source, sessions: [ServerActivity.Snapshot]) -> [Point] {
        let players = Dictionary(grouping: sessions, by: \.player.point).mapValues(\.count)
        return source.points().map { point($0, players: players[$0.name] ?? 0) }
    }

    static func snapshot(_ source: AdminServer.Source) -> Snapshot {
        let now = Date(), sessions = source.activity.snapshot
        return Snapshot(time: now, status: status(source), points: points(source, sessions: sessions),
                        sessions: sessions.map { session($0, now: now) }, encoders: source.encoders().map { encoder($0, now: now) })
    }

    static func point(_ point: PublishingPoint, players: Int) -> Point {
        let (kind, state): (String, String)
        switch point.kind {
        case .onDemand: (kind, state) = ("ondemand", "serving")
        case .onDemandFile: (kind, state) = ("file", "serving")
        case .broadcast: (kind, state) = ("broadcast", "serving")
        case let .live(live): (kind, state) = ("push", live.broadcast == nil ? "waiting for an encoder" : "serving")
        case .redirect: (kind, state) = ("redirect", "serving")
        }
        let path = point.path == "/" ? "/" : String(point.path.dropLast())
        return Point(name: point.name, path: path, kind: kind, state: state, players: players)
    }

    static func encoder(_ encoder: AdminServer.Encoder, now: Date) -> Encoder {
        let seconds = max(0, now.timeIntervalSince(encoder.since))
        return Encoder(point: encoder.point, pushId: encoder.pushID, streaming: encoder.client != nil, client: encoder.client ?? "-",
                       userAgent: encoder.userAgent, since: encoder.since, bytesReceived: encoder.bytesReceived,
                       bitsPerSecond: seconds > 0 ? Double(encoder.bytesReceived * 8) / seconds : 0)
    }

    static func session(_ snapshot: ServerActivity.Snapshot, now: Date) -> Session {
        let seconds = max(0, now.timeIntervalSince(snapshot.connected))
        return Session(id: snapshot.id, protocol: snapshot.player.protocolName, transport: snapshot.player.transport,
                       point: snapshot.player.point, path: snapshot.player.path, client: snapshot.player.client,
                       player: snapshot.player.player, connected: snapshot.connected, seconds: seconds,
                       bytesSent: snapshot.bytesSent, bitsPerSecond: seconds > 0 ? Double(snapshot.bytesSent * 8) / seconds : 0)
    }
}
