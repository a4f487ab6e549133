import Foundation
import NIOCore

/// What `asfcast load` runs: which protocol against which URLs, how many sessions, how fast they
/// connect, for how long, and what counts as a pass.
public struct LoadPlan: Sendable {
    public enum Player: String, Sendable, CaseIterable {
        case wmsp, wmspPipelined = "wmsp-pipelined", rtspTCP = "rtsp-tcp", rtspUDP = "rtsp-udp", mmst, mmsu
        /// A plain HTTP download of the ASF stream, as a player that does not speak WMSP gets it.
        case http
    }

    /// What each player does, after Windows Media Load Simulator's client profiles.
    public enum Profile: String, Sendable, CaseIterable {
        /// Plays to the content's end or the test's.
        case play
        /// Every interval, seeks to a random position at least two intervals and 3 s before the
        /// end (on-demand content only).
        case seek
        /// Plays for an interval, closes, and opens again.
        case openClose = "openclose"
        /// Every interval, switches to the next of the content's alternative streams (its video
        /// bit rates, or its audio streams).
        case switchStreams = "switch"

        /// The players that can run it against this server (nil: all).
        public var players: [Player]? {
            switch self {
            case .play, .openClose: nil
            case .seek: [.wmsp, .wmspPipelined, .rtspTCP, .rtspUDP, .mmst, .mmsu, .http]
            case .switchStreams: [.wmsp, .wmspPipelined, .rtspTCP, .rtspUDP, .mmst, .mmsu]
            }
        }
    }

    public var urls: [URL]
    public var player: Player
    public var clients: Int
    /// Sessions started per second.
    public var connectRate: Double
    public var duration: TimeAmount
    public var profile = Profile.play
    /// Between a profile's actions (seeks, reopenings, switches).
    public var interval: TimeAmount = .seconds(10)
    /// A session ends an interval after this many actions; nil: at the content's or test's end.
    public var actions: Int?
    /// How late a packet may arrive after its send time (relative to the session's first).
    public var tolerance: TimeAmount = .milliseconds(500)
    /// The test stops once this many sessions have failed.
    public var errorLimit: Int
    /// A session that ends before the test does, failed or at its content's end, is followed
    /// a second later by a new one in its place, as a player that reconnects or plays again:
    /// the population stays `clients` (the soak's view), each failure still counted.
    public var reconnects = false
    /// Pass: at least `sessionsFraction` of the sessions receive at least `rateFraction` of
    /// the content's rate (seconds of content per second of play).
    public var sessionsFraction = 0.99
    public var rateFraction = 0.95

    public init(urls: [URL], player: Player, clients: Int, connectRate: Double, duration: TimeAmount, errorLimit: Int? = nil) {
        self.urls = urls
        self.player = player
        self.clients = clients
        self.connectRate = connectRate
        self.duration = duration
        self.errorLimit = errorLimit ?? max(1, clients / 10)
    }

    /// The protocol a URL's scheme implies: `mmsh` and `http` WMSP (as Windows Media players
    /// use them), `rtsp` over TCP, `mms`/`mmst` TCP, `mmsu` UDP.
    public static func player(for url: URL) -> Player? {
        switch url.scheme?.lowercased() {
        case "mmsh", "http": .wmsp
        case "rtsp": .rtspTCP
        case "mms", "mmst": .mmst
        case "mmsu": .mmsu
        default: nil
        }
    }
}

extension LoadPlan.Player {
    var driver: LoadDriver {
        switch self {
        case .wmsp: WMSPDriver(pipelined: false)
        case .wmspPipelined: WMSPDriver(pipelined: true)
        case .http: HTTPDriver()
        case .rtspTCP: RTSPDriver(udp: false)
        case .rtspUDP: RTSPDriver(udp: true)
        case .mmst: MMSDriver(udp: false)
        case .mmsu: MMSDriver(udp: true)
        }
    }
}
