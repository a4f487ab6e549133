import ASF
import Logging
import NIOCore
import NIOPosix

/// What every delivery engine's connections share: the publishing points, pacing, limits,
/// the import path for other formats, and the logs.
public struct DeliveryContext: Sendable {
    /// The points now (a reload replaces them).
    public let directory: PointsDirectory
    public var points: PublishingPoints { directory.points }
    /// Fast Start buffer beyond the preroll, and the fastest a session may be sent.
    public var fastStartBuffer: TimeAmount
    public var maximumRate: Double
    /// How much of a session's packets go out in one write (`Pacing.batch`, broadcasts'
    /// `BroadcastPoint.batchInterval`).
    public var batch: TimeAmount
    /// Seconds of a stream a client may leave unsent before it counts as too slow.
    public var slowClientSeconds: Double
    /// Whether headers are fitted to what each client takes (`ClientHeader`).
    public var fitsHeaders: Bool
    public var admission: AdmissionControl
    /// Address lists and authentication.
    public var access: AccessControl
    /// Turns files of other formats into ASF; nil serves ASF only.
    public var importer: Importer?
    public var accessLog: AccessLog
    /// The players connected and the bytes sent, across engines.
    public var activity: ServerActivity
    public var logger: Logger

    /// A conversion into ASF (MediaImport's cache, in the server), run on `threadPool`.
    public struct Importer: Sendable {
        public var threadPool: NIOThreadPool
        /// The ASF file to serve for a file of another format; throws when it cannot be carried.
        public var convert: @Sendable (String) throws -> String

        public init(threadPool: NIOThreadPool, convert: @escaping @Sendable (String) throws -> String) {
            self.threadPool = threadPool
            self.convert = convert
        }
    }

    public init(points: PublishingPoints, fastStartBuffer: TimeAmount = .seconds(2), maximumRate: Double = 5, batch: TimeAmount = .zero,
                slowClientSeconds: Double = 10, fitsHeaders: Bool = true, admission: AdmissionControl = AdmissionControl(), access: AccessControl = AccessControl(),
                importer: Importer? = nil, accessLog: AccessLog, activity: ServerActivity = ServerActivity(), logger: Logger) {
        self.access = access
        directory = PointsDirectory(points)
        self.accessLog = accessLog
        self.activity = activity
        self.importer = importer
        self.admission = admission
        self.fastStartBuffer = fastStartBuffer
        self.batch = batch
        self.maximumRate = maximumRate
        self.slowClientSeconds = slowClientSeconds
        self.fitsHeaders = fitsHeaders
        self.logger = logger
    }

    /// A player of `path` on `channel` starts playing: counted, listed and disconnectable
    /// (ServerActivity) until the presence returned is let go of.
    public func arrive(protocolName: String, transport: String, path: String, player: String, on channel: any Channel) -> ServerActivity.Presence {
        let name = points.name(serving: path) ?? "-"
        let pathOnly = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? path
        let connected = try? channel.pipeline.syncOperations.handler(type: ConnectionGuard.self).connected
        return activity.arrive(.init(protocolName: protocolName, transport: transport, point: name, path: pathOnly,
                                     client: channel.remoteAddress?.ipAddress ?? "-", player: player), connected: connected) {
            channel.close(promise: nil)
        }
    }

    /// The header as `limit`'s client takes it, or whole with `fit_headers: false`.
    public func header(_ header: ASFHeader, for limit: ClientHeaderLimit) -> ClientHeader {
        ClientHeader(header, for: fitsHeaders ? limit : ClientHeaderLimit(client: limit.client, readsKnownDataSize: limit.readsKnownDataSize),
                     logger: logger)
    }

    /// Write buffer marks for a stream of `bitsPerSecond`: a session may queue `slowClientSeconds`
    /// of it (at least 256 KiB) before its channel reports unwritable.
    public func writeBufferMarks(bitsPerSecond: UInt32) -> ChannelOptions.Types.WriteBufferWaterMark {
        let high = max(256 << 10, Int(Double(bitsPerSecond) / 8 * slowClientSeconds))
        return .init(low: high / 2, high: high)
    }

    /// The ASF file to serve for `path`: the file itself, or for another format its remux,
    /// made off the event loop (once; the importer caches it).
    public func asfFile(for path: String, on loop: EventLoop) -> EventLoopFuture<String> {
        guard !path.lowercased().hasSuffix(".wsx"), !ASFFile.startsWithHeader(path: path), let importer else {
            return loop.makeSucceededFuture(path)
        }
        return importer.threadPool.runIfActive(eventLoop: loop) { try importer.convert(path) }
    }
}

extension DeliveryContext {
    /// An on-demand session's pacing: Fast Start for a file with `preroll` ms, in batches, where
    /// the client's reading paces the burst (TCP); else real time, packet by packet (UDP, where
    /// bursts outrun receivers).
    public func pacing(prerollMilliseconds preroll: UInt64, overTCP: Bool = true) -> Pacing {
        guard overTCP else { return Pacing(lead: .zero, maximumRate: 1) }
        var pacing = Pacing.fastStart(prerollMilliseconds: preroll, buffer: fastStartBuffer, maximumRate: maximumRate)
        pacing.batch = batch
        return pacing
    }
}
