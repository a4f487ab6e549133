import Foundation
import Hummingbird
import Streaming

/// The admin API's JSON documents (Sources/Admin/openapi.yaml is their OpenAPI description),
/// read back by `asfcast status` with `decoder`.
public enum AdminAPI {
    public struct Status: ResponseEncodable, Decodable, Sendable {
        public var version: String
        public var started: Date
        public var uptimeSeconds: Int
        public var players: Int
        public var bytesSent: Int
        public var points: Int
    }

    public struct Point: ResponseEncodable, Decodable, Sendable {
        public var name: String
        public var path: String
        /// `ondemand`, `file`, `broadcast`, `push` or `redirect`.
        public var kind: String
        /// `serving`, or for a push point `waiting for an encoder`.
        public var state: String
        public var players: Int
        /// Its limits (`max_players`, `max_bandwidth_kbps` in bit/s); absent: none.
        public var maxPlayers: Int?
        public var maxBitsPerSecond: Int?
        /// The bit rate admitted to its players now (WMS's allocated bandwidth).
        public var allocatedBitsPerSecond: Int
    }

    public struct Session: ResponseEncodable, Decodable, Sendable {
        public var id: Int
        public var `protocol`: String
        public var transport: String
        public var point: String
        public var path: String
        public var client: String
        public var player: String
        /// The version of its User-Agent's first product (`NSPlayer/7.10.0.3059`: `7.10.0.3059`).
        public var playerVersion: String?
        public var connected: Date
        public var seconds: Double
        public var bytesSent: Int
        /// Bytes sent over the time connected, in bit/s.
        public var bitsPerSecond: Double
        /// Where its stream is: the send time of the last packet sent, in seconds (into an
        /// on-demand file, or into a broadcast's stream); absent before the first.
        public var position: Double?
    }

    public struct Encoder: ResponseEncodable, Decodable, Sendable {
        public var point: String
        public var pushId: String
        /// Whether a connection streams its body now (between PushStarts, or dropped and within
        /// the Idle-Timeout, none does).
        public var streaming: Bool
        /// Its address, "-" when not streaming.
        public var client: String
        public var userAgent: String
        public var since: Date
        public var bytesReceived: Int
        /// Bytes received over the time since its PushSetup, in bit/s.
        public var bitsPerSecond: Double
    }

    public struct Reloaded: ResponseEncodable, Decodable, Sendable {
        /// What changes only at the next start.
        public var notes: [String]
    }

    public struct List<Item: Codable & Sendable>: ResponseEncodable, Decodable, Sendable {
        public var items: [Item]
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

    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    static func status(_ source: AdminServer.Source) -> Status {
        let activity = source.activity
        return Status(version: source.version, started: activity.started, uptimeSeconds: Int(Date().timeIntervalSince(activity.started)),
                      players: activity.playersConnected, bytesSent: activity.bytesSent, points: source.points().count + source.stopped().count)
    }

    static func points(_ source: AdminServer.Source, sessions: [ServerActivity.Snapshot]) -> [Point] {
        let players = Dictionary(grouping: sessions, by: \.player.point).mapValues(\.count)
        let allocated = source.admission.allocatedBitsPerSecond
        return source.points().map { point($0, players: players[$0.name] ?? 0, admission: source.admission, allocated: allocated[$0.name] ?? 0) }
            + source.stopped().map { point($0, players: 0, admission: source.admission, allocated: 0, state: "stopped") }
    }

    static func snapshot(_ source: AdminServer.Source) -> Snapshot {
        let now = Date(), sessions = source.activity.snapshot
        return Snapshot(time: now, status: status(source), points: points(source, sessions: sessions),
                        sessions: sessions.map { session($0, now: now) }, encoders: source.encoders().map { encoder($0, now: now) })
    }

    static func point(_ point: PublishingPoint, players: Int, admission: AdmissionControl, allocated: UInt64, state stated: String? = nil) -> Point {
        let (kind, state): (String, String)
        switch point.kind {
        case .onDemand: (kind, state) = ("ondemand", "serving")
        case .onDemandFile: (kind, state) = ("file", "serving")
        case .broadcast: (kind, state) = ("broadcast", "serving")
        case let .live(live): (kind, state) = ("push", live.broadcast == nil ? "waiting for an encoder" : "serving")
        case .redirect: (kind, state) = ("redirect", "serving")
        }
        let path = point.path == "/" ? "/" : String(point.path.dropLast())
        let limits = admission.limits(of: point.name)
        return Point(name: point.name, path: path, kind: kind, state: stated ?? state, players: players, maxPlayers: limits.maximumPlayers,
                     maxBitsPerSecond: limits.maximumBitsPerSecond.map { Int(clamping: $0) }, allocatedBitsPerSecond: Int(clamping: allocated))
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
                       player: snapshot.player.player, playerVersion: ServedSession.playerVersion(snapshot.player.player),
                       connected: snapshot.connected, seconds: seconds, bytesSent: snapshot.bytesSent,
                       bitsPerSecond: seconds > 0 ? Double(snapshot.bytesSent * 8) / seconds : 0, position: snapshot.position)
    }
}
