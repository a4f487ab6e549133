import Foundation
import Multicast
import Streaming
import Yams

/// The server's settings: one YAML file (`config/asfcast.yaml`), every key optional, overridden
/// by `asfcast serve` flags. Unknown keys and wrong types are refused with the file and line.
public struct ServerConfiguration: Sendable, Equatable {
    public var bind = "0.0.0.0"
    public var mediaRoot = "Media"
    /// Well-known ports: HTTP 80 (MS-WMSP 2.1), RTSP 554, MMS 1755.
    public var httpPort = 80
    public var rtspPort = 554
    public var mmsPort = 1755
    /// RTSP over UDP: the server's RTP port (RTCP on the next one), each event loop taking the
    /// next pair; 0 takes any free pair.
    public var rtpPort = 0
    /// MS-RTSP 3.2.2 Idle-Timeout: an RTSP session with no request (over UDP, no RTCP either)
    /// for this long is ended.
    public var rtspSessionTimeoutSeconds = 60.0
    public var mmsIdleTimeoutSeconds = 60.0
    /// Fast Start: seconds sent ahead beyond the preroll, and the fastest rate as a multiple of real time.
    public var fastStartBufferSeconds = 2.0
    public var fastStartMaximumRate = 5.0
    /// Clients over TCP get the packets falling due within this many milliseconds in one write:
    /// fewer, larger writes; a packet goes out at most this early, never late.
    public var batchMilliseconds = 1000
    public var logLevel = "info"
    /// W3C access log (one line per session and per client log submission); nil: none.
    public var accessLog: String?
    /// Besides logrotate's SIGUSR1: a new file each day, or at a size.
    public var accessLogRotation = AccessLog.Rotation.none
    /// Where remuxed copies of non-ASF files are kept.
    public var importCache = NSTemporaryDirectory() + "asfcast-import-cache"
    /// A live client whose unsent data exceeds this many seconds of the stream is disconnected.
    public var slowClientSeconds = 10.0
    /// Headers fitted to what each client takes (HEADERS.md); off sends every header whole.
    public var fitHeaders = true
    /// Named publishing points, besides the default one serving `mediaRoot` at "/".
    public var points: [Point] = []
    /// Server-wide limits; over them a client gets the protocol's refusal (HTTP 503).
    public var maximumPlayers: Int?
    public var maximumBandwidthKbps: Int?
    /// Every TCP listener: a request must be complete (answered) within this many seconds of its
    /// first byte, and a connection with nothing read or written for the idle timeout is closed.
    public var requestHeaderTimeoutSeconds = 60.0
    public var idleConnectionTimeoutSeconds = 60.0
    /// Connections one address may hold, and open per second (0: no limit).
    public var maximumConnectionsPerAddress = 2000
    public var maximumConnectionRatePerAddress = 500
    /// Server-wide IP lists, checked before every point's own.
    public var addresses = AddressList()
    /// The Digest realm (htdigest files name it) and how long a nonce lasts.
    public var authRealm = "asfcast"
    public var digestNonceSeconds = 300.0
    /// Push ingest (MS-WMHTTP 3.2.2): a PushStart body silent this long is ended (408), and an
    /// encoder whose connection dropped may resume within it; between a complete body and the
    /// next PushStart the session waits the inactivity timeout.
    public var pushIdleTimeoutSeconds = 60.0
    public var pushInactivityTimeoutSeconds = 120.0
    /// Whether an encoder's PushSetup to a path no point has makes a push point there with the
    /// settings of its Template-URL's push point (MS-WMHTTP 2.2.2.1.1).
    public var pushCreatesPoints = false
    /// The admin listener (`/metrics`, the JSON API); port 0: none. Bound beyond loopback it
    /// needs the bearer token.
    public var adminBind = "127.0.0.1"
    public var adminPort = 0
    public var adminToken: String?

    public struct Point: Sendable, Equatable {
        public enum Source: Sendable, Equatable {
            /// On demand: the files below a directory.
            case directory(String)
            /// On demand: one file or `.wsx` playlist, at the point's path.
            case file(String)
            /// Broadcast: these files (relative to the media root), one after another, in a loop.
            case broadcast([String], startImmediately: Bool)
            /// Elsewhere: a URL, or `//host[:port]` for the same path on another server.
            case redirect(String)
            /// Live: what an encoder pushes (MS-WMHTTP); the point's users are the encoders'.
            case push
            /// Live: pulled over WMSP from an encoder or another server's point (an http:// or
            /// mmsh:// URL given as `broadcast`).
            case pull(String)
        }

        public var name: String
        public var path: String
        public var source: Source
        public var maximumPlayers: Int?
        public var maximumBandwidthKbps: Int?
        /// Its users (from `users`; those of `usersFile` join them at start), the schemes that
        /// prove one, and its address lists.
        public var access: PointAccess
        /// An htdigest file of more users.
        public var usersFile: String?
        /// A broadcast's archive: the file name template (`ArchivePath`).
        public var archive: String?
        /// A broadcast's multicast group (MS-MSB), announced at its path plus `.nsc` and `.asx`.
        public var multicast: MulticastSettings?
        /// A broadcast's MSBD listener (MS-MSBD; WMS 4.1's encoders used 7007).
        public var msbdPort: Int?

        public init(name: String, path: String, source: Source, maximumPlayers: Int? = nil, maximumBandwidthKbps: Int? = nil,
                    access: PointAccess = PointAccess(), usersFile: String? = nil) {
            self.name = name
            self.path = path
            self.access = access
            self.usersFile = usersFile
            self.source = source
            self.maximumPlayers = maximumPlayers
            self.maximumBandwidthKbps = maximumBandwidthKbps
        }
    }

    public init() {}

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// The limits as admission control takes them.
    public var admission: AdmissionControl {
        AdmissionControl(server: Self.limits(maximumPlayers, maximumBandwidthKbps), points: pointLimits)
    }

    /// Each point's limits, by name.
    public var pointLimits: [String: AdmissionControl.Limits] { Self.pointLimits(of: points) }

    public static func pointLimits(of points: [Point]) -> [String: AdmissionControl.Limits] {
        Dictionary(points.map { ($0.name, limits($0.maximumPlayers, $0.maximumBandwidthKbps)) }, uniquingKeysWith: { a, _ in a })
    }

    private static func limits(_ players: Int?, _ kbps: Int?) -> AdmissionControl.Limits {
        .init(maximumPlayers: players, maximumBitsPerSecond: kbps.map { UInt64($0) * 1000 })
    }

    /// Reads `path`; keys not in the file keep their defaults.
    public static func load(path: String) throws -> ServerConfiguration {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Failure(description: "\(path): cannot read: \(error.localizedDescription)")
        }
        return try parse(text, file: path)
    }

    public static func parse(_ text: String, file: String) throws -> ServerConfiguration {
        var config = ServerConfiguration()
        guard flowNesting(of: text) <= maximumNesting else {
            throw Failure(description: "\(file): nested more than \(maximumNesting) deep")
        }
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw Failure(description: "\(file): not YAML: \(error)")
        }
        guard let root else { return config }
        guard let mapping = root.mapping else {
            throw Failure(description: "\(file):\(line(root)): the configuration must be a mapping of keys")
        }
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { throw Failure(description: "\(file):\(line(keyNode)): a key must be text") }
            func fail(_ expected: String) -> Failure {
                Failure(description: "\(file):\(line(value)): '\(key)' must be \(expected)")
            }
            func seconds(_ range: ClosedRange<Double>) throws -> Double {
                guard let v = value.float, range.contains(v) else { throw fail("seconds between \(Int(range.lowerBound)) and \(Int(range.upperBound))") }
                return v
            }
            func port() throws -> Int {
                guard let p = integer(value), (1...65535).contains(p) else { throw fail("a port number (1-65535)") }
                return p
            }
            switch key {
            case "bind": guard let v = value.string, !v.isEmpty else { throw fail("an address") }; config.bind = v
            case "media_root": guard let v = value.string, !v.isEmpty else { throw fail("a directory") }; config.mediaRoot = v
            case "http_port": config.httpPort = try port()
            case "rtsp_port": config.rtspPort = try port()
            case "mms_port": config.mmsPort = try port()
            case "rtsp_session_timeout_seconds":
                guard let v = value.float, v >= 10, v <= 3600 else { throw fail("seconds between 10 (MS-RTSP 3.2.2) and 3600") }
                config.rtspSessionTimeoutSeconds = v
            case "mms_idle_timeout_seconds":
                guard let v = value.float, v >= 10, v <= 3600 else { throw fail("seconds between 10 and 3600") }
                config.mmsIdleTimeoutSeconds = v
            case "rtp_port":
                guard let p = integer(value), p == 0 || (1024...65000).contains(p), p % 2 == 0 else { throw fail("an even port number (1024-65000), or 0 for any") }
                config.rtpPort = p
            case "fast_start_buffer_seconds":
                guard let v = value.float, v >= 0, v <= 60 else { throw fail("seconds between 0 and 60") }
                config.fastStartBufferSeconds = v
            case "fast_start_maximum_rate":
                guard let v = value.float, v >= 1, v <= 100 else { throw fail("a multiple between 1 and 100") }
                config.fastStartMaximumRate = v
            case "batch_ms":
                guard let v = integer(value), (0...2000).contains(v) else { throw fail("milliseconds between 0 and 2000") }
                config.batchMilliseconds = v
            case "max_players":
                guard let v = integer(value), v >= 0 else { throw fail("a number of players (0: no limit)") }
                config.maximumPlayers = v == 0 ? nil : v
            case "max_bandwidth_kbps":
                guard let v = integer(value), v >= 0 else { throw fail("kbit/s (0: no limit)") }
                config.maximumBandwidthKbps = v == 0 ? nil : v
            case "access_log": guard let v = value.string else { throw fail("a file path") }; config.accessLog = v.isEmpty ? nil : v
            case "access_log_rotate":
                let v = value.string?.replacingOccurrences(of: " ", with: "").lowercased() ?? ""
                if v == "" || v == "none" {
                    config.accessLogRotation = .none
                } else if v == "daily" {
                    config.accessLogRotation = .daily
                } else if v.hasSuffix("mb"), let megabytes = Int(v.dropLast(2)), (1...1_000_000).contains(megabytes) {
                    config.accessLogRotation = .size(megabytes * 1_048_576)
                } else {
                    throw fail("none, daily or a size such as 100 MB")
                }
            case "import_cache": guard let v = value.string, !v.isEmpty else { throw fail("a directory") }; config.importCache = v
            case "slow_client_seconds":
                guard let v = value.float, v >= 1, v <= 600 else { throw fail("seconds between 1 and 600") }
                config.slowClientSeconds = v
            case "fit_headers": guard let v = value.bool else { throw fail("true or false") }; config.fitHeaders = v
            case "request_header_timeout_seconds": config.requestHeaderTimeoutSeconds = try seconds(1...3600)
            case "idle_connection_timeout_seconds": config.idleConnectionTimeoutSeconds = try seconds(1...3600)
            case "max_connections_per_address":
                guard let v = integer(value), v >= 0 else { throw fail("a number of connections (0: no limit)") }
                config.maximumConnectionsPerAddress = v
            case "max_connection_rate_per_address":
                guard let v = integer(value), v >= 0 else { throw fail("connections a second (0: no limit)") }
                config.maximumConnectionRatePerAddress = v
            case "allow": config.addresses.allow = try blocks(value, key: key, file: file)
            case "deny": config.addresses.deny = try blocks(value, key: key, file: file)
            case "auth_realm": guard let v = value.string, !v.isEmpty, !v.contains("\""), !v.contains(":") else { throw fail("text without quotes or ':'") }; config.authRealm = v
            case "digest_nonce_seconds": config.digestNonceSeconds = try seconds(10...86400)
            case "push_idle_timeout_seconds": config.pushIdleTimeoutSeconds = try seconds(10...3600)
            case "push_inactivity_timeout_seconds": config.pushInactivityTimeoutSeconds = try seconds(10...3600)
            case "push_creates_points": guard let v = value.bool else { throw fail("true or false") }; config.pushCreatesPoints = v
            case "admin_bind": guard let v = value.string, !v.isEmpty else { throw fail("an address") }; config.adminBind = v
            case "admin_port":
                guard let p = integer(value), (0...65535).contains(p) else { throw fail("a port number (0-65535)") }
                config.adminPort = p
            case "admin_token": guard let v = value.string else { throw fail("text") }; config.adminToken = v.isEmpty ? nil : v
            case "points":
                guard let items = value.sequence else { throw fail("a list of publishing points") }
                config.points = try items.map { try point($0, file: file) }
            case "log_level":
                let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
                guard let v = value.string, levels.contains(v) else { throw fail("one of \(levels.joined(separator: ", "))") }
                config.logLevel = v
            default:
                throw Failure(description: "\(file):\(line(keyNode)): unknown key '\(key)'")
            }
        }
        return config
    }

    /// One point's settings, as an entry of `points` has them, in YAML or JSON (which YAML
    /// reads): the admin API's new point. `source` names the text in errors.
    public static func parsePoint(_ text: String, source: String) throws -> Point {
        guard flowNesting(of: text) <= maximumNesting else { throw Failure(description: "\(source): nested more than \(maximumNesting) deep") }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch {
            throw Failure(description: "\(source): neither JSON nor YAML: \(error)")
        }
        guard let node else { throw Failure(description: "\(source): empty: a point's settings (name, path and its source)") }
        return try point(node, file: source)
    }

    /// Yams parses nested flow collections by recursion and overflows the stack on thousands
    /// of `[` (found by fuzzing); no configuration nests beyond a few levels.
    static let maximumNesting = 64

    /// The deepest nesting of `[` and `{`, counted everywhere: quotes and comments are what an
    /// input would hide brackets in, and no real configuration comes near the limit.
    static func flowNesting(of text: String) -> Int {
        var depth = 0, deepest = 0
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "["), UInt8(ascii: "{"): depth += 1; deepest = max(deepest, depth)
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
            default: break
            }
        }
        return deepest
    }

    /// An integer as written, in decimal. Yams's own reading (`Node.int`) also takes YAML 1.1's
    /// base-60 forms (`1:30`) and traps when one overflows (found by fuzzing the config).
    private static func integer(_ node: Node) -> Int? {
        node.scalar.flatMap { Int($0.string.hasPrefix("+") ? String($0.string.dropFirst()) : $0.string) }
    }

    /// A list of CIDR blocks (`allow`, `deny`).
    private static func blocks(_ value: Node, key: String, file: String) throws -> [AddressList.Block] {
        let items = value.sequence.map(Array.init) ?? [value]
        return try items.map { item in
            guard let text = item.string, let block = AddressList.Block(text) else {
                throw Failure(description: "\(file):\(line(item)): '\(key)' lists addresses or CIDR blocks (10.0.0.0/8, 2001:db8::/32)")
            }
            return block
        }
    }

    /// Yams marks count lines from 1.
    /// One entry of `points`: `name`, `path`, and one of `directory`, `file` (a file or playlist)
    /// or `broadcast` (a file, playlist or list of them) with `start: immediately | first_client`.
    private static func point(_ node: Node, file: String) throws -> Point {
        guard let mapping = node.mapping else { throw Failure(description: "\(file):\(line(node)): a point must be a mapping") }
        var name: String?, path: String?, directory: String?, single: String?, broadcast: [String]?, redirect: String?, start = "immediately"
        var push = false, archive: String?, multicast: MulticastSettings?, msbdPort: Int?
        var players: Int?, kbps: Int?, access = PointAccess(), usersFile: String?
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            func text() throws -> String {
                guard let v = value.string, !v.isEmpty else { throw Failure(description: "\(file):\(line(value)): '\(key)' must be text") }
                return v
            }
            switch key {
            case "name": name = try text()
            case "path":
                let p = try text()
                guard p.hasPrefix("/") else { throw Failure(description: "\(file):\(line(value)): 'path' must start with /") }
                path = p
            case "directory": directory = try text()
            case "file": single = try text()
            case "redirect": redirect = try text()
            case "broadcast":
                if let list = value.sequence {
                    broadcast = try list.map { item in
                        guard let v = item.string else { throw Failure(description: "\(file):\(line(item)): 'broadcast' lists file names") }
                        return v
                    }
                } else {
                    broadcast = [try text()]
                }
            case "max_players":
                guard let v = integer(value), v >= 0 else { throw Failure(description: "\(file):\(line(value)): 'max_players' must be a number (0: no limit)") }
                players = v == 0 ? nil : v
            case "max_bandwidth_kbps":
                guard let v = integer(value), v >= 0 else { throw Failure(description: "\(file):\(line(value)): 'max_bandwidth_kbps' must be kbit/s (0: no limit)") }
                kbps = v == 0 ? nil : v
            case "users":
                guard let entries = value.mapping else { throw Failure(description: "\(file):\(line(value)): 'users' maps user names to passwords") }
                for (user, password) in entries {
                    guard let u = user.string, !u.isEmpty, !u.contains(":"), let p = password.string else {
                        throw Failure(description: "\(file):\(line(user)): a user name (without ':') and a password (or ha1-md5:<hex>, ha1-sha256:<hex>)")
                    }
                    access.users.add(u, UserSecret(configured: p))
                }
            case "users_file": usersFile = try text()
            case "archive": archive = try text()
            case "multicast": multicast = try multicastSettings(value, file: file)
            case "msbd_port":
                guard let v = integer(value), (1...65535).contains(v) else { throw Failure(description: "\(file):\(line(value)): 'msbd_port' must be a port number (1-65535)") }
                msbdPort = v
            case "push":
                guard let v = value.bool else { throw Failure(description: "\(file):\(line(value)): 'push' must be true or false") }
                push = v
            case "auth":
                let items = value.sequence.map(Array.init) ?? [value]
                access.schemes = try Set(items.map { item in
                    guard let scheme = item.string.flatMap(PointAccess.Scheme.init(rawValue:)) else {
                        throw Failure(description: "\(file):\(line(item)): 'auth' lists digest and/or basic")
                    }
                    return scheme
                })
                guard !access.schemes.isEmpty else { throw Failure(description: "\(file):\(line(value)): 'auth' lists digest and/or basic") }
            case "allow": access.addresses.allow = try blocks(value, key: key, file: file)
            case "deny": access.addresses.deny = try blocks(value, key: key, file: file)
            case "start":
                start = try text()
                guard ["immediately", "first_client"].contains(start) else {
                    throw Failure(description: "\(file):\(line(value)): 'start' must be immediately or first_client")
                }
            default:
                throw Failure(description: "\(file):\(line(keyNode)): unknown key '\(key)' in a point")
            }
        }
        guard let path else { throw Failure(description: "\(file):\(line(node)): a point needs a 'path'") }
        let source: Point.Source
        switch (directory, single, broadcast, redirect) {
        case (nil, nil, nil, nil) where push: source = .push
        case (_, _, _, _) where push:
            throw Failure(description: "\(file):\(line(node)): a point with 'push: true' takes no 'directory', 'file', 'broadcast' or 'redirect'")
        case let (directory?, nil, nil, nil): source = .directory(directory)
        case let (nil, single?, nil, nil): source = .file(single)
        case let (nil, nil, files?, nil) where files.count == 1 && files[0].range(of: "^(http|mmsh)://", options: [.regularExpression, .caseInsensitive]) != nil:
            source = .pull(files[0])
        case let (nil, nil, files?, nil) where !files.isEmpty: source = .broadcast(files, startImmediately: start == "immediately")
        case let (nil, nil, nil, target?): source = .redirect(target)
        default: throw Failure(description: "\(file):\(line(node)): a point needs one of 'directory', 'file', 'broadcast', 'redirect' or 'push: true'")
        }
        if archive != nil {
            switch source {
            case .broadcast, .push, .pull: break
            default: throw Failure(description: "\(file):\(line(node)): only a broadcast or push point has an 'archive'")
            }
        }
        var point = Point(name: name ?? String(path.dropFirst()), path: path, source: source, maximumPlayers: players, maximumBandwidthKbps: kbps,
                          access: access, usersFile: usersFile)
        if multicast != nil || msbdPort != nil {
            switch source {
            case .broadcast, .push, .pull: break
            default: throw Failure(description: "\(file):\(line(node)): only a broadcast or push point has 'multicast' or 'msbd_port'")
            }
        }
        point.archive = archive
        point.multicast = multicast
        point.msbdPort = msbdPort
        return point
    }

    /// `multicast:` of a point: `group` and `port`, and optionally `ttl`, `interface`,
    /// `fec_span`, `beacon_seconds`, `unicast_url`.
    private static func multicastSettings(_ node: Node, file: String) throws -> MulticastSettings {
        guard let mapping = node.mapping else { throw Failure(description: "\(file):\(line(node)): 'multicast' must be a mapping (group, port, ...)") }
        var group: String?, port: Int?
        var settings = MulticastSettings(group: "", port: 0)
        for (keyNode, value) in mapping {
            let key = keyNode.string ?? ""
            func fail(_ expected: String) -> Failure { Failure(description: "\(file):\(line(value)): multicast '\(key)' must be \(expected)") }
            switch key {
            case "group": guard let v = value.string, !v.isEmpty else { throw fail("a multicast address") }; group = v
            case "port": guard let v = integer(value) else { throw fail("a port number") }; port = v
            case "ttl": guard let v = integer(value) else { throw fail("a number of hops (0-255)") }; settings.timeToLive = v
            case "interface": guard let v = value.string, !v.isEmpty else { throw fail("a local address") }; settings.interface = v
            case "fec_span": guard let v = integer(value) else { throw fail("a number of packets (0-14)") }; settings.fecSpan = v
            case "beacon_seconds": guard let v = value.float else { throw fail("seconds (1-10)") }; settings.beaconSeconds = v
            case "unicast_url": guard let v = value.string, !v.isEmpty else { throw fail("a URL") }; settings.unicastURL = v
            default: throw Failure(description: "\(file):\(line(keyNode)): unknown key '\(key)' in 'multicast'")
            }
        }
        guard let group, let port else { throw Failure(description: "\(file):\(line(node)): 'multicast' needs a 'group' and a 'port'") }
        settings.group = group
        settings.port = port
        do {
            _ = try settings.groupAddress()
        } catch {
            throw Failure(description: "\(file):\(line(node)): multicast: \(error)")
        }
        return settings
    }

    private static func line(_ node: Node) -> Int { node.mark?.line ?? 0 }
}
