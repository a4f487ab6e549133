import Admin
import ASF
import Foundation
import Logging
import MediaImport
import MMS
import Multicast
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import Push
import RTSP
import Streaming
import WMSP
#if canImport(Glibc)
import Glibc
#endif

/// The running server: one event loop per core, one pacing scheduler per loop, and a listener per
/// delivery engine.
/// Started once from one thread; `shutdown()` may then come from a signal handler.
public final class Server: @unchecked Sendable {
    public let configuration: ServerConfiguration
    private let group: MultiThreadedEventLoopGroup
    /// Blocking work off the event loops: remuxing non-ASF files.
    private let threadPool = NIOThreadPool(numberOfThreads: 1)
    private var channels: [Channel] = []
    private let logger: Logger
    /// One pacing scheduler and one RTP/RTCP socket pair per event loop, made at start.
    private var loops: [ObjectIdentifier: NIOLoopBound<LoopServices>] = [:]
    private var mmsUDP: MMSUDPEndpoint?
    /// The listening sockets systemd passed, until their listeners claim them.
    private var activated = ActivatedSockets()
    /// Every TCP listener's connections, against the per-address and open-file limits.
    private var connectionLimiter = ConnectionLimiter(limits: .init())
    /// WMSP sessions by Client-ID.
    public let sessions = WMSPSessions()
    /// Encoders' push sessions by push-id.
    public let pushSessions: PushSessions
    /// The points encoders made (their archives are completed at shutdown).
    private var created: CreatedPoints?
    /// The points sent to a multicast group now, whose announcements the HTTP port serves.
    private let multicast = NIOLockedValueBox(MulticastPoints([]))
    /// The players and the bytes sent, across engines.
    private let activity: ServerActivity
    /// `/metrics` and the JSON API, when `admin_port` is set.
    private let admin: AdminServer?
    public private(set) var adminPort = 0
    /// What `asfcast --version` prints and the admin API says.
    public static let version = "0.1.0"
    private let notifier: SystemdNotifier
    private let freedMemory: FreedMemory
    private var accessLog: AccessLog?
    /// The configured points running now (a reload compares their settings), the points every
    /// request looks up, and the limits of each.
    private var configured: [ConfiguredPoint] = []
    /// The configured points stopped through the admin API: out of the directory until started.
    private var stoppedPoints: Set<String> = []
    private var directory: PointsDirectory?
    private var admission: AdmissionControl?
    /// One reload at a time (SIGHUP, the admin API).
    private let reloading = NIOLock()
    /// The configuration file's settings as last read (at the start or a reload), and the
    /// points the admin API added or removed over it.
    private var fileConfiguration: ServerConfiguration
    private var overlay = PointOverlay()
    /// Where a reload reads the configuration (the file and the flags of `asfcast serve`).
    public var configurationSource: (@Sendable () throws -> ServerConfiguration)?

    /// The server could not start: a listener or a publishing point's source.
    public struct BindFailure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(configuration: ServerConfiguration, logger: Logger, threads: Int = System.coreCount) {
        self.configuration = configuration
        fileConfiguration = configuration
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        admin = configuration.adminPort == 0 ? nil
            : AdminServer(settings: .init(host: configuration.adminBind, port: configuration.adminPort, token: configuration.adminToken), logger: logger)
        activity = ServerActivity(metrics: admin?.metricsFactory)
        pushSessions = PushSessions(activity: activity)
        notifier = SystemdNotifier(activity: activity)
        freedMemory = FreedMemory(logger: logger)
    }

    /// Binds every listener; returns once they accept connections.
    public func start() throws {
        if admin != nil, configuration.adminToken == nil, !Self.isLoopback(configuration.adminBind) {
            throw BindFailure(description: "the admin listener on \(configuration.adminBind) needs admin_token (a bearer token), or admin_bind: 127.0.0.1")
        }
        do {
            activated = try ActivatedSockets.take()
        } catch {
            throw BindFailure(description: "socket activation: \(error)")
        }
        let lateSends = activity.counter("asfcast_late_sends_total")
        for (index, loop) in group.makeIterator().enumerated() {
            let port = configuration.rtpPort == 0 ? 0 : configuration.rtpPort + 2 * index
            let endpoint: RTPEndpoint
            do {
                endpoint = try RTPEndpoint.bind(host: configuration.bind, port: port, on: loop, logger: logger)
            } catch {
                throw BindFailure(description: "cannot open the RTP/RTCP ports \(port)-\(port + 1) for RTSP over UDP: \(error); choose others with rtp_port")
            }
            loops[ObjectIdentifier(loop)] = try loop.submit {
                NIOLoopBound(LoopServices(scheduler: PacingScheduler(eventLoop: loop, lateSends: lateSends), endpoint: endpoint), eventLoop: loop)
            }.wait()
        }
        let points = PublishingPoints(try publishingPoints())
        created = points.created
        threadPool.start()
        let cache = try ImportCache(directory: configuration.importCache)
        let accessLog = try AccessLog(path: configuration.accessLog, rotation: configuration.accessLogRotation) { [activity] in activity.playersConnected }
        self.accessLog = accessLog
        let admission = configuration.admission
        self.admission = admission
        activity.countFileReads()
        activity.measureAllocatedBandwidth(admission)
        let delivery = DeliveryContext(points: points, fastStartBuffer: .milliseconds(Int64(configuration.fastStartBufferSeconds * 1000)),
                                       maximumRate: configuration.fastStartMaximumRate,
                                       batch: .milliseconds(Int64(configuration.batchMilliseconds)),
                                       slowClientSeconds: configuration.slowClientSeconds, fitsHeaders: configuration.fitHeaders,
                                       admission: admission,
                                       access: AccessControl(addresses: configuration.addresses,
                                                             digest: DigestAuthenticator(realm: configuration.authRealm,
                                                                                         nonceLifetime: .seconds(Int64(configuration.digestNonceSeconds)))),
                                       importer: .init(threadPool: threadPool, convert: cache.asf(for:)),
                                       accessLog: accessLog, activity: activity, logger: logger)
        directory = delivery.directory
        connectionLimiter = ConnectionLimiter(limits: .init(perAddress: configuration.maximumConnectionsPerAddress,
                                                            ratePerAddress: configuration.maximumConnectionRatePerAddress,
                                                            total: OpenFileLimit.raise(logger: logger).connections))
        let context = WMSPServerContext(delivery: delivery, sessions: sessions)
        let rtspPortBox = NIOLockedValueBox(configuration.rtspPort)
        let multicast = multicast
        let announcements = AnnouncementHandler.Context(points: { multicast.withLockedValue { $0 } }, accessLog: delivery.accessLog, logger: logger,
                                                        rtspPort: { rtspPortBox.withLockedValue { $0 } })
        let push = PushServerContext(delivery: delivery, sessions: pushSessions,
                                     idleTimeout: .milliseconds(Int64(configuration.pushIdleTimeoutSeconds * 1000)),
                                     inactivityTimeout: .milliseconds(Int64(configuration.pushInactivityTimeoutSeconds * 1000)),
                                     createsPoints: configuration.pushCreatesPoints)
        let http = bootstrap { channel, loop in
            // A PushStart without a length gets one before the HTTP decoder reads it (PUSH.md 1.7).
            try channel.pipeline.syncOperations.addHandler(UnstatedLengthHandler())
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: false, withErrorHandling: true)
            // Encoders' POSTs go to the push ingest; every other request on to WMSP.
            try channel.pipeline.syncOperations.addHandler(PushIngestHandler(server: push))
            try channel.pipeline.syncOperations.addHandler(AnnouncementHandler(server: announcements))
            try channel.pipeline.syncOperations.addHandler(WMSPServerHandler(server: context, scheduler: loop.scheduler))
        }
        channels.append(try bind(http, port: configuration.httpPort, flag: "--http-port", what: "HTTP (WMSP)"))
        let rtspContext = RTSPServerContext(delivery: delivery,
                                            sessionTimeout: .milliseconds(Int64(configuration.rtspSessionTimeoutSeconds * 1000)))
        let rtsp = bootstrap { channel, loop in
            try channel.pipeline.syncOperations.addHandler(RTSPServerHandler(server: rtspContext, scheduler: loop.scheduler, endpoint: loop.endpoint))
        }
        channels.append(try bind(rtsp, port: configuration.rtspPort, flag: "--rtsp-port", what: "RTSP"))
        rtspPortBox.withLockedValue { $0 = rtspPort }
        channels.append(try bindMMS(delivery: delivery))
        for point in configured { try bindMSBD(point) }
        guard activated.unclaimedPorts.isEmpty else {
            throw BindFailure(description: "systemd passed sockets on port \(activated.unclaimedPorts.map(String.init).joined(separator: ", ")), "
                + "which no listener uses: the ports of the .socket unit are http_port, rtsp_port, mms_port and msbd_port")
        }
        for point in configured { point.start() }
        if let admin {
            do {
                let pushSessions = pushSessions
                let directory = delivery.directory
                adminPort = try admin.start(.init(version: Self.version, activity: activity,
                                                  points: { directory.points.points + directory.points.created.all },
                                                  reload: { [unowned self] in try self.reload() },
                                                  encoders: {
                                                      pushSessions.all.map { session in
                                                          let encoder = session.encoder
                                                          return AdminServer.Encoder(point: session.pointName, pushID: session.id, client: encoder.address,
                                                                                     userAgent: encoder.userAgent, since: session.created,
                                                                                     bytesReceived: encoder.bytesReceived)
                                                      }
                                                  },
                                                  stopped: { [unowned self] in
                                                      reloading.withLock { configured.filter { stoppedPoints.contains($0.config.name) }.map(\.point) }
                                                  },
                                                  run: { [unowned self] (name, running) throws(AdminServer.PointControlError) in try run(name, running) },
                                                  admission: admission,
                                                  add: { [unowned self] settings throws(AdminServer.PointControlError) in try addPoint(settings) },
                                                  remove: { [unowned self] name throws(AdminServer.PointControlError) in try removePoint(name) },
                                                  announcement: { [unowned self] in announcement(of: $0, $1, host: $2) }))
            } catch {
                throw BindFailure(description: "cannot listen for the admin API on \(configuration.adminBind):\(configuration.adminPort): \(error); choose another admin_port")
            }
            logger.info("admin API and /metrics on \(configuration.adminBind):\(adminPort)")
        }
        logger.info("serving \(configuration.mediaRoot): WMSP on \(configuration.bind):\(httpPort), RTSP on port \(rtspPort), MMS on port \(mmsPort)")
        notifier.ready(on: group.next())
        freedMemory.start()
    }

    /// The MMS listener, and the UDP socket on the same port number, where MMS over UDP sends
    /// from and takes resend requests (MS-MMSP 3.2.5.11.1). With port 0 the UDP port is chosen
    /// first and TCP takes the same number, which a client connection's local port may hold: a
    /// busy machine (thousands of connections) can take a few tries.
    private func bindMMS(delivery: DeliveryContext) throws -> Channel {
        let attempts = 64
        for attempt in 1...attempts {
            let udp: MMSUDPEndpoint
            do {
                udp = try MMSUDPEndpoint.bind(host: configuration.bind, port: configuration.mmsPort, group: group, logger: logger)
            } catch {
                throw BindFailure(description: "cannot open UDP port \(configuration.mmsPort) for MMS over UDP: \(error); choose another with --mms-port")
            }
            let context = MMSServerContext(delivery: delivery, udp: udp,
                                           idleTimeout: .milliseconds(Int64(configuration.mmsIdleTimeoutSeconds * 1000)))
            let mms = bootstrap { channel, loop in
                try channel.pipeline.syncOperations.addHandler(MMSServerHandler(server: context, scheduler: loop.scheduler))
            }
            do {
                let listener = try bind(mms, port: udp.port, flag: "--mms-port", what: "MMS")
                mmsUDP = udp
                return listener
            } catch where configuration.mmsPort == 0 && attempt < attempts {
                udp.close()
            }
        }
        throw BindFailure(description: "no port free for MMS over both TCP and UDP")
    }

    /// The point's MSBD listener, if it has `msbd_port`, serving what plays there.
    private func bindMSBD(_ configured: ConfiguredPoint) throws {
        guard let port = configured.config.msbdPort else { return }
        var group: (address: UInt32, port: UInt16)?
        if let settings = configured.config.multicast, case let .v4(v4)? = try? settings.groupAddress() {
            group = (UInt32(bigEndian: v4.address.sin_addr.s_addr), UInt16(settings.port))
        }
        let point = MSBDServerHandler.Point(name: configured.config.name, broadcast: { [weak configured] in configured?.broadcast }, group: group)
        let logger = logger
        let msbd = bootstrap { channel, _ in
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(MSBDMessageDecoder()))
            try channel.pipeline.syncOperations.addHandler(MSBDServerHandler(point: point, logger: logger))
        }
        configured.msbd = try bind(msbd, port: port, flag: "msbd_port", what: "MSBD (point \(configured.config.name))")
    }

    /// A listener whose connections get `handlers`, with the services of their loop.
    private func bootstrap(_ handlers: @escaping @Sendable (Channel, LoopServices) throws -> Void) -> ServerBootstrap {
        let loops = self.loops
        let limiter = connectionLimiter, logger = logger
        let timeouts = ConnectionGuard.Timeouts(header: .milliseconds(Int64(configuration.requestHeaderTimeoutSeconds * 1000)),
                                                idle: .milliseconds(Int64(configuration.idleConnectionTimeoutSeconds * 1000)))
        return ServerBootstrap(group: group)
            // Connections come in bursts (a thousand a second when a show starts): take up to
            // 64 at each wake-up rather than NIO's 4, and queue up to 4,096 in the kernel.
            .serverChannelOption(.backlog, value: 4096)
            .serverChannelOption(.maxMessagesPerRead, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionGuard(limiter: limiter, timeouts: timeouts, logger: logger))
                    try handlers(channel, loops[ObjectIdentifier(channel.eventLoop)]!.value)
                }
            }
    }

    /// The default on-demand point at "/", then the configured ones. Broadcast sources are
    /// opened now, so that a missing or incompatible file stops the start with a clear error.
    private func publishingPoints() throws -> [PublishingPoint] {
        var homes = group.makeIterator()
        configured = try configuration.points.map { point in try makePoint(point) { homes.next() ?? group.next() } }
        multicast.withLockedValue { $0 = MulticastPoints(configured.compactMap(\.multicast)) }
        return [defaultPoint] + configured.map(\.point)
    }

    private var defaultPoint: PublishingPoint {
        PublishingPoint(name: "default", path: "/", kind: .onDemand(directory: configuration.mediaRoot))
    }

    /// One configured point; a source (a broadcast's, a push's, a pull's) runs on the loop
    /// `nextHome` gives. Its pull and its multicast beacons begin with `start()`.
    private func makePoint(_ point: ServerConfiguration.Point, nextHome: () -> EventLoop) throws -> ConfiguredPoint {
        func made(_ kind: PublishingPoint.Kind, access: PointAccess = PointAccess(), puller: WMSPPuller? = nil,
                  archive: PointArchive? = nil, sender: MulticastSender? = nil) -> ConfiguredPoint {
            let path = point.path.hasSuffix("/") ? String(point.path.dropLast()) : point.path
            return ConfiguredPoint(config: point, point: PublishingPoint(name: point.name, path: point.path, kind: kind, access: access),
                                   puller: puller, archive: archive,
                                   multicast: sender.map { MulticastPoints.Point(name: point.name, path: path, sender: $0) })
        }
        switch point.source {
        case let .directory(directory):
            return made(.onDemand(directory: directory), access: try access(of: point))
        case let .file(file):
            let path = file.hasPrefix("/") ? file : configuration.mediaRoot + "/" + file
            return made(.onDemandFile(path: path), access: try access(of: point))
        case let .redirect(target):
            return made(.redirect(target))
        case let .pull(url):
            let access = try access(of: point)
            let home = nextHome()
            let scheduler = try scheduler(of: home)
            let archive = archive(of: point)
            let sender = try multicastSender(of: point, on: home)
            let live = LivePoint(name: point.name, home: scheduler, loops: Array(group.makeIterator()),
                                 batchInterval: .milliseconds(Int64(configuration.batchMilliseconds)), archive: archive,
                                 followers: sender.map { [$0] } ?? [], logger: logger)
            let puller: WMSPPuller
            do {
                puller = try WMSPPuller(url: url, live: live, group: group,
                                        grace: .milliseconds(Int64(configuration.pushIdleTimeoutSeconds * 1000)), logger: logger)
            } catch {
                sender?.stop()
                throw BindFailure(description: "broadcast point \(point.name): \(error)")
            }
            return made(.live(live), access: access, puller: puller, archive: archive, sender: sender)
        case .push:
            let encoders = try access(of: point)
            let home = nextHome()
            let scheduler = try scheduler(of: home)
            let archive = archive(of: point)
            let sender = try multicastSender(of: point, on: home)
            let live = LivePoint(name: point.name, encoders: encoders, home: scheduler,
                                 loops: Array(group.makeIterator()), batchInterval: .milliseconds(Int64(configuration.batchMilliseconds)),
                                 archive: archive, followers: sender.map { [$0] } ?? [], logger: logger)
            // The users are the encoders'; players are asked only for their address.
            return made(.live(live), access: PointAccess(addresses: encoders.addresses), archive: archive, sender: sender)
        case let .broadcast(files, startImmediately):
            let access = try access(of: point)
            let entries: [SplicedSource.Entry]
            do {
                entries = try Self.broadcastEntries(files, mediaRoot: configuration.mediaRoot, logger: logger)
            } catch {
                throw BindFailure(description: "broadcast point \(point.name): \(error)")
            }
            guard let first = entries.first?.file else { throw BindFailure(description: "broadcast point \(point.name): nothing to play") }
            for entry in entries.dropFirst() where !SplicedSource.compatible(first, entry.file) {
                throw BindFailure(description: "broadcast point \(point.name): \(entry.file.path) does not have the streams and packet size of \(first.path)")
            }
            let home = nextHome()
            let live = BroadcastPoint(name: point.name, source: try SplicedSource(entries: entries, loops: true), home: try scheduler(of: home),
                                      batchInterval: .milliseconds(Int64(configuration.batchMilliseconds)), logger: logger)
            // Every loop keeps the recent packets, so that a late joiner on any loop starts at once.
            for loop in group.makeIterator() { _ = live.relay(on: loop) }
            let archive = archive(of: point)
            archive?.follow(live)
            let sender = try multicastSender(of: point, on: home)
            sender?.follow(live)
            if startImmediately { live.start() }
            return made(.broadcast(live), access: access, archive: archive, sender: sender)
        }
    }

    /// The pacing scheduler of `loop`.
    private func scheduler(of loop: EventLoop) throws -> PacingScheduler {
        let bound = loops[ObjectIdentifier(loop)]!
        return try loop.submit { bound.value.scheduler }.wait()
    }

    /// The point's multicast sender, if it has one, its socket open on `loop`.
    private func multicastSender(of point: ServerConfiguration.Point, on loop: EventLoop) throws -> MulticastSender? {
        guard let settings = point.multicast else { return nil }
        do {
            return try MulticastSender(point: point.name, settings: settings, on: loop, activity: activity, logger: logger)
        } catch {
            throw BindFailure(description: "point \(point.name): cannot multicast to \(settings.group) port \(settings.port): \(error)")
        }
    }

    /// The point's archive, if it has one.
    private func archive(of point: ServerConfiguration.Point) -> PointArchive? {
        point.archive.map { PointArchive(point: point.name, template: ArchivePath($0), root: configuration.mediaRoot, logger: logger) }
    }

    /// A point's access rules, with the users of its htdigest file.
    private func access(of point: ServerConfiguration.Point) throws -> PointAccess {
        var access = point.access
        guard let file = point.usersFile else { return access }
        do {
            let users = try Users.htdigest(String(contentsOfFile: file, encoding: .utf8), realm: configuration.authRealm)
            for (user, secrets) in users.secrets { for secret in secrets { access.users.add(user, secret) } }
        } catch {
            throw BindFailure(description: "point \(point.name): users_file \(file): \(error)")
        }
        return access
    }

    /// A broadcast's files, relative to the media root; a `.wsx` playlist stands for its entries.
    public static func broadcastEntries(_ names: [String], mediaRoot: String, logger: Logger) throws -> [SplicedSource.Entry] {
        try names.flatMap { name -> [SplicedSource.Entry] in
            let path = mediaRoot + "/" + name
            guard name.lowercased().hasSuffix(".wsx") else { return [SplicedSource.Entry(file: try ASFFile(path: path))] }
            return try Playlist(parsing: Data(contentsOf: URL(fileURLWithPath: path)))
                .openEntries(relativeTo: path, root: mediaRoot, logger: logger)
        }
    }

    /// The ports the listeners got (useful with port 0).
    public var httpPort: Int { channels.first.map(boundPort) ?? 0 }
    public var rtspPort: Int { channels.count > 1 ? boundPort(channels[1]) : 0 }
    public var mmsPort: Int { channels.count > 2 ? boundPort(channels[2]) : 0 }

    private func boundPort(_ channel: Channel) -> Int { channel.localAddress?.port ?? 0 }

    private func bind(_ bootstrap: ServerBootstrap, port: Int, flag: String, what: String) throws -> Channel {
        if let socket = activated.claim(port: port) {
            do {
                let channel = try bootstrap.withBoundSocket(socket).wait()
                logger.info("\(what) takes systemd's socket on port \(port)")
                return channel
            } catch {
                throw BindFailure(description: "cannot listen for \(what) on systemd's socket for port \(port): \(error)")
            }
        }
        do {
            return try bootstrap.bind(host: configuration.bind, port: port).wait()
        } catch let error as IOError where error.errnoCode == EACCES && port < 1024 {
            throw BindFailure(description: """
                cannot listen for \(what) on port \(port): permission denied. Ports below 1024 need root or the \
                CAP_NET_BIND_SERVICE capability (systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE); or choose another \
                port with \(flag).
                """)
        } catch {
            throw BindFailure(description: "cannot listen for \(what) on \(configuration.bind):\(port): \(error)")
        }
    }

    /// Reads the configuration again from `configurationSource` and reloads it.
    public func reload() throws -> [String] {
        guard let configurationSource else { return ["nothing to reload: the server was started without a configuration file"] }
        do {
            return try reload(configurationSource())
        } catch {
            logger.error("reload refused, the running configuration kept: \(error)")
            throw error
        }
    }

    /// SIGHUP and the admin API: the points of `new` replace the running ones. Unchanged points
    /// go on untouched with their players; points are added, changed or removed, with what they
    /// hold (a pull's connection, an archive, a multicast sender, an MSBD listener), and the
    /// points' limits follow. A removed or changed point's players get the end of its stream, and
    /// an encoder pushing to it is disconnected (it reconnects to the point as it is now). The
    /// settings besides the points change at the next start: the notes returned say which.
    /// Throws, leaving everything as it was, when a new point cannot be made (a missing file).
    /// The points the admin API added or removed stay so, laid over the file's (`PointOverlay`).
    public func reload(_ file: ServerConfiguration) throws -> [String] {
        try reloading.withLock {
            notifier.reloading()
            defer { notifier.reloaded() }
            var notes = try apply(file, overlay: overlay, as: "configuration reloaded")
            let kept = overlay.added.filter { point in file.points.contains { $0.name == point.name } }.map(\.name)
                + overlay.removed.filter { name in file.points.contains { $0.name == name } }.sorted()
            if !kept.isEmpty { notes.append("points \(kept.joined(separator: ", ")) stay as the admin API left them, over the file") }
            for note in notes { logger.notice("reload: \(note)") }
            fileConfiguration = file
            return notes
        }
    }

    /// Makes `overlay`'s points over `file`'s the running ones; `reloading` is held. Logs the
    /// change as `cause`; returns the notes on what does not change.
    private func apply(_ file: ServerConfiguration, overlay: PointOverlay, as cause: String) throws -> [String] {
        guard let directory, let admission else { return [] }
        var new = file
        new.points = overlay.points(over: file.points)
        var notes: [String] = []
        var running = configuration, wanted = new
        running.points = []
        wanted.points = []
        let settings = Self.differences(running, wanted)
        if !settings.isEmpty { notes.append("\(settings.joined(separator: ", ")) change at the next start") }
        let old = Dictionary(configured.map { ($0.config.name, $0) }, uniquingKeysWith: { a, _ in a })
        var next: [ConfiguredPoint] = [], made: [ConfiguredPoint] = [], ended: [ConfiguredPoint] = []
        do {
            for point in new.points {
                let existing = old[point.name]
                if let existing, existing.config == point {
                    next.append(existing)
                } else {
                    let point = try makePoint(point) { group.next() }
                    made.append(point)
                    next.append(point)
                    if let existing, stoppedPoints.remove(existing.config.name) == nil { ended.append(existing) }
                }
            }
        } catch {
            for point in made { point.end(pushSessions: pushSessions) }
            throw error
        }
        for (name, existing) in old where !new.points.contains(where: { $0.name == name }) {
            if stoppedPoints.remove(name) == nil { ended.append(existing) }
        }
        let added = next.filter { old[$0.config.name] == nil }.count
        configured = next
        admission.setPointLimits(ServerConfiguration.pointLimits(of: next.map(\.config)))
        publish(directory)
        for point in ended { point.end(pushSessions: pushSessions) }
        // After the points they replace let go of their MSBD ports.
        for point in made {
            do {
                try bindMSBD(point)
            } catch {
                logger.error("reload: point \(point.config.name) is served without MSBD: \(error)")
                notes.append("point \(point.config.name): \(error)")
            }
            point.start()
        }
        logger.notice("\(cause): \(next.count) points, \(added) added, \(made.count - added) changed, \(old.count + added - next.count) removed")
        return notes
    }

    /// The admin API adds a point: its settings as an entry of `points` has them, in JSON or
    /// YAML. It serves at once, and until the server stops (a reload keeps it); a name or a
    /// path another point has is refused.
    func addPoint(_ text: String) throws(AdminServer.PointControlError) -> String {
        let point: ServerConfiguration.Point
        do {
            point = try ServerConfiguration.parsePoint(text, source: "the point's settings")
        } catch {
            throw .invalid("\(error)")
        }
        reloading.lock()
        defer { reloading.unlock() }
        guard point.name != "default", !configured.contains(where: { $0.config.name == point.name }) else {
            throw .conflict("a point named \(point.name) exists")
        }
        // Paths as PublishingPoint keeps them, with a final "/"; the default point's is "/".
        let path = point.path.hasSuffix("/") ? point.path : point.path + "/"
        guard path != "/", !configured.contains(where: { $0.point.path == path }) else { throw .conflict("another point serves \(point.path)") }
        var next = overlay
        next.add(point)
        do {
            _ = try apply(fileConfiguration, overlay: next, as: "point \(point.name) added (admin API)")
        } catch {
            throw .invalid("\(error)")
        }
        overlay = next
        return point.name
    }

    /// The admin API removes a configured point, the file's or its own, until the server stops
    /// (a reload keeps it removed): its players get the end of its stream, what it holds is let go.
    func removePoint(_ name: String) throws(AdminServer.PointControlError) {
        reloading.lock()
        defer { reloading.unlock() }
        guard configured.contains(where: { $0.config.name == name }) else { throw .noSuchPoint }
        var next = overlay
        next.remove(name, file: fileConfiguration.points)
        do {
            _ = try apply(fileConfiguration, overlay: next, as: "point \(name) removed (admin API)")
        } catch {
            throw .cannotStart("\(error)")
        }
        overlay = next
    }

    /// The running points go to the directory players find points in, and the multicast ones'
    /// announcements to the HTTP port.
    private func publish(_ directory: PointsDirectory) {
        let running = configured.filter { !stoppedPoints.contains($0.config.name) }
        directory.replace(with: PublishingPoints([defaultPoint] + running.map(\.point), created: directory.points.created))
        multicast.withLockedValue { $0 = MulticastPoints(running.compactMap(\.multicast)) }
    }

    /// The admin API stops or starts a configured point (WMS's stop and start of a publishing
    /// point). Stopped, it ends as a reload's removal does (its players get the end of its
    /// stream, what it holds is let go) and players asking for it are refused as for a point
    /// that does not exist; started, it is made again from its settings. A reload keeps an
    /// unchanged point stopped.
    func run(_ name: String, _ running: Bool) throws(AdminServer.PointControlError) {
        reloading.lock()
        defer { reloading.unlock() }
        guard let directory, let index = configured.firstIndex(where: { $0.config.name == name }) else { throw .noSuchPoint }
        guard stoppedPoints.contains(name) == running else { throw .already }
        if running {
            let point: ConfiguredPoint
            do {
                point = try makePoint(configured[index].config) { group.next() }
            } catch {
                throw .cannotStart("\(error)")
            }
            configured[index] = point
            stoppedPoints.remove(name)
            publish(directory)
            do {
                try bindMSBD(point)
            } catch {
                logger.error("point \(name) is served without MSBD: \(error)")
            }
            point.start()
            logger.notice("point \(name) started (admin API)")
        } else {
            stoppedPoints.insert(name)
            publish(directory)
            configured[index].end(pushSessions: pushSessions)
            logger.notice("point \(name) stopped (admin API)")
        }
    }

    /// A running point's `.asx` (its mmsh:// and rtsp:// URLs; a multicast point's `.nsc` first),
    /// or a multicast point's `.nsc`, naming the server `host` or, by default, the address it
    /// listens on (this machine's name when that is every address).
    func announcement(of name: String, _ kind: AdminServer.AnnouncementKind, host: String?) -> AdminServer.Announcement {
        let (point, multicast) = reloading.withLock {
            let running = configured.first { $0.config.name == name && !stoppedPoints.contains(name) }
            return (running?.point ?? directory?.points.created.all.first { $0.name == name }, running?.multicast)
        }
        guard let point else { return .none }
        if case .redirect = point.kind { return .none }
        let listening = ["0.0.0.0", "::", ""].contains(configuration.bind) ? ProcessInfo.processInfo.hostName : configuration.bind
        let name = host ?? (listening.contains(":") ? "[\(listening)]" : listening)
        let (http, rtsp) = ("\(name):\(httpPort)", "\(name):\(rtspPort)")
        guard let multicast else {
            guard kind == .asx else { return .none }
            return .text(ASXAnnouncement.unicast(point: point.name, path: point.path, httpHost: http, rtspHost: rtsp).text,
                         contentType: ASXAnnouncement.contentType)
        }
        let formats = multicast.sender.formats
        guard !formats.isEmpty else { return .notYet }
        let announcement = MulticastAnnouncement(point: point.name, path: multicast.path, settings: multicast.sender.settings, formats: formats,
                                                 httpHost: http, rtspHost: rtsp)
        return kind == .nsc ? .text(announcement.nsc.text, contentType: "application/x-netshow-channel")
                            : .text(announcement.asx, contentType: ASXAnnouncement.contentType)
    }

    /// The names of the settings that differ.
    private static func differences(_ a: ServerConfiguration, _ b: ServerConfiguration) -> [String] {
        zip(Mirror(reflecting: a).children, Mirror(reflecting: b).children).compactMap { x, y in
            String(describing: x.value) == String(describing: y.value) ? nil : x.label
        }
    }

    /// SIGUSR1: the access log is opened again at its path, for logrotate.
    public func reopenLogs() {
        guard let accessLog, let path = accessLog.path else { return }
        do {
            try accessLog.reopen()
            logger.info("access log reopened: \(path)")
        } catch {
            logger.error("cannot reopen the access log \(path): \(error); still writing to the old file")
        }
    }

    /// How long a shutdown waits for broadcast players to take the end of their stream.
    static let endOfStreamGrace = TimeAmount.seconds(2)

    public func shutdown() throws {
        notifier.stopping()
        freedMemory.stop()
        for channel in channels { try? channel.close().wait() }
        // The players of broadcasts, pushes and pulls get the end of the stream, each in its
        // protocol (WMSP's $E, RTSP's EndOfStream, MMS's ReportEndOfStream), and a moment to
        // take it; archives are completed (sizes, index) before the loops stop.
        let running = reloading.withLock { configured.filter { !stoppedPoints.contains($0.config.name) } }
        let broadcasts = Set(running.filter(\.isBroadcast).map(\.config.name) + (created?.all ?? []).map(\.name))
        let told = activity.snapshot.filter { broadcasts.contains($0.player.point) }.count
        if told > 0 { logger.notice("stopping: \(told) players of broadcasts get the end of the stream") }
        for point in running { point.end(pushSessions: pushSessions) }
        for point in created?.all ?? [] {
            guard case let .live(live) = point.kind else { continue }
            pushSessions.end(pushingTo: live)
            live.archive?.close()
        }
        let deadline = NIODeadline.now() + Self.endOfStreamGrace
        while activity.snapshot.contains(where: { broadcasts.contains($0.player.point) }), NIODeadline.now() < deadline {
            usleep(20_000)
        }
        admin?.stop()
        mmsUDP?.close()
        for services in loops.values { try? services.eventLoop.submit { services.value.endpoint.close() }.wait() }
        try group.syncShutdownGracefully()
        try threadPool.syncShutdownGracefully()
    }
}

extension Server {
    /// Whether `host` is this machine only: the admin listener needs no token there.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// What each event loop owns: the scheduler that paces its sessions, and its RTP/RTCP sockets.
struct LoopServices {
    let scheduler: PacingScheduler
    let endpoint: RTPEndpoint
}
