import Foundation
import NIOCore

/// What `asfcast load` runs: which protocol against which URLs, how many sessions, how fast they
/// connect, for how long, and what counts as a pass.
public struct LoadPlan: Sendable {
    public enum Player: String, Sendable, CaseIterable {
        case wmsp, rtspTCP = "rtsp-tcp", rtspUDP = "rtsp-udp", mmst, mmsu
    }

    public var urls: [URL]
    public var player: Player
    public var clients: Int
    /// Sessions started per second.
    public var connectRate: Double
    public var duration: TimeAmount
    /// How late a packet may arrive after its send time (relative to the session's first).
    public var tolerance: TimeAmount = .milliseconds(500)
    /// The test stops once this many sessions have failed.
    public var errorLimit: Int
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

    /// The protocol a URL's scheme implies (`mmsh`/`http` WMSP, `rtsp` over TCP, `mms`/`mmst`
    /// TCP, `mmsu` UDP).
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

/// How one protocol's player plays a URL for one session, until the content ends (returns),
/// it fails (throws), or the session's connections are closed.
protocol LoadDriver: Sendable {
    func play(_ url: URL, session: LoadSession, group: EventLoopGroup) async throws
}

extension LoadPlan.Player {
    var driver: LoadDriver {
        switch self {
        case .wmsp: WMSPDriver()
        case .rtspTCP: RTSPDriver(udp: false)
        case .rtspUDP: RTSPDriver(udp: true)
        case .mmst: MMSDriver(udp: false)
        case .mmsu: MMSDriver(udp: true)
        }
    }
}
