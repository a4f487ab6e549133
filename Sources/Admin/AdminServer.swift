import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle
import Streaming

/// The admin listener, on a port of its own (loopback unless configured otherwise): the
/// Prometheus counters at `/metrics` and the JSON API under `/api/v1` (Sources/Admin/openapi.yaml),
/// which `asfcast status` reads. Bound elsewhere than loopback it asks for a bearer token.
public final class AdminServer: Sendable {
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// Required in `Authorization: Bearer …` when set.
        public var token: String?

        public init(host: String, port: Int, token: String?) {
            (self.host, self.port, self.token) = (host, port, token)
        }
    }

    /// What the API shows: the server's players, its points and the encoders pushing to them.
    public struct Source: Sendable {
        public var version: String
        public var activity: ServerActivity
        public var points: @Sendable () -> [PublishingPoint]
        /// Reads the configuration again: what changes only at the next start, or why it was refused.
        public var reload: @Sendable () throws -> [String]
        public var encoders: @Sendable () -> [Encoder]
        /// The configured points stopped through the API (WMS's "stop publishing point").
        public var stopped: @Sendable () -> [PublishingPoint]
        /// Stops (false) or starts (true) the configured point of that name.
        public var run: @Sendable (_ name: String, _ running: Bool) throws(PointControlError) -> Void
        /// The points' limits, and the bandwidth admitted to their players.
        public var admission: AdmissionControl
        /// Adds a point from its settings (JSON or YAML, as an entry of `points`); returns its name.
        public var add: @Sendable (_ settings: String) throws(PointControlError) -> String
        /// Removes a configured point.
        public var remove: @Sendable (_ name: String) throws(PointControlError) -> Void
        /// The point's `.asx` or `.nsc`, its URLs on `host` (nil: the server's own name).
        public var announcement: @Sendable (_ name: String, _ kind: AnnouncementKind, _ host: String?) -> Announcement

        public init(version: String, activity: ServerActivity, points: @escaping @Sendable () -> [PublishingPoint],
                    reload: @escaping @Sendable () throws -> [String], encoders: @escaping @Sendable () -> [Encoder],
                    stopped: @escaping @Sendable () -> [PublishingPoint], run: @escaping @Sendable (String, Bool) throws(PointControlError) -> Void,
                    admission: AdmissionControl, add: @escaping @Sendable (String) throws(PointControlError) -> String,
                    remove: @escaping @Sendable (String) throws(PointControlError) -> Void,
                    announcement: @escaping @Sendable (String, AnnouncementKind, String?) -> Announcement) {
            (self.version, self.activity, self.points, self.reload, self.encoders) = (version, activity, points, reload, encoders)
            (self.stopped, self.run, self.admission, self.add, self.remove, self.announcement) = (stopped, run, admission, add, remove, announcement)
        }
    }

    /// A `.asx` (any point) or a `.nsc` (a multicast point's, MS-MSB 2.2.1).
    public enum AnnouncementKind: String, Sendable, CaseIterable {
        case asx, nsc
    }

    public enum Announcement: Sendable {
        case text(String, contentType: String)
        /// No running point of that name has one of that kind.
        case none
        /// A multicast point whose encoder has not pushed: no header to announce yet.
        case notYet
    }

    /// Why a point could not be stopped or started.
    public enum PointControlError: Error {
        /// No configured point has that name (the default point and the points encoders made
        /// are not the API's to stop).
        case noSuchPoint
        /// It is stopped already, or running already.
        case already
        /// Made again from its settings, it did not start (its file is gone, say).
        case cannotStart(String)
        /// A new point's settings are not those of a point, or it cannot be made from them.
        case invalid(String)
        /// A new point has the name or the path of another.
        case conflict(String)

        /// The API's answer to it: its status and message.
        func httpError(point name: String, running: Bool = true) -> HTTPError {
            switch self {
            case .noSuchPoint: HTTPError(.notFound, message: "no configured point \(name)")
            case .already: HTTPError(.conflict, message: "point \(name) is \(running ? "running" : "stopped") already")
            case let .cannotStart(reason): HTTPError(.internalServerError, message: "point \(name) did not start: \(reason)")
            case let .invalid(reason): HTTPError(.badRequest, message: reason)
            case let .conflict(reason): HTTPError(.conflict, message: reason)
            }
        }
    }

    /// An encoder's push session (MS-WMHTTP), as the API lists it.
    public struct Encoder: Sendable {
        public var point: String
        public var pushID: String
        /// Its address while a connection streams its body; nil between its connections.
        public var client: String?
        public var userAgent: String
        public var since: Date
        public var bytesReceived: Int

        public init(point: String, pushID: String, client: String?, userAgent: String, since: Date, bytesReceived: Int) {
            (self.point, self.pushID, self.client, self.userAgent, self.since, self.bytesReceived) = (point, pushID, client, userAgent, since, bytesReceived)
        }
    }

    /// Where the engines' counters go; `/metrics` prints them.
    public let registry = PrometheusCollectorRegistry()
    public var metricsFactory: PrometheusMetricsFactory {
        var factory = PrometheusMetricsFactory(registry: registry)
        // A fraction of packets lost (RTCP's 8 bits / 256) and RTP jitter (milliseconds).
        factory.valueHistogramBuckets["asfcast_rtcp_fraction_lost"] = [0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]
        factory.durationHistogramBuckets["asfcast_rtcp_jitter_seconds"] = [1, 5, 10, 20, 50, 100, 200, 500, 1000].map { .milliseconds($0) }
        return factory
    }
    private let settings: Settings
    private let logger: Logger
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// The listener as a service: its graceful shutdown closes the port and lets the requests in
    /// progress finish.
    private let services = NIOLockedValueBox<ServiceGroup?>(nil)
    private let ended = ConditionLock(value: false)
    /// Set at the shutdown: event streams end (a graceful shutdown waits for open requests).
    private let stopping = NIOLockedValueBox(false)

    public init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    /// Listens, on a loop of its own (the media loops are not kept from their pacing); returns
    /// the port bound once requests are taken, or throws why it could not bind.
    public func start(_ source: Source) throws -> Int {
        let bound = group.next().makePromise(of: Int.self)
        // The promise is completed once: by the listener running, or by the error before it.
        let running = NIOLockedValueBox(false)
        let app = Application(router: router(source),
                              configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "asfcast/\(source.version)"),
                              onServerRunning: { channel in
                                  running.withLockedValue { $0 = true }
                                  bound.succeed(channel.localAddress?.port ?? 0)
                              },
                              eventLoopGroupProvider: .shared(group),
                              logger: logger)
        let (logger, ended, stopping) = (logger, ended, stopping)
        let services = ServiceGroup(services: [app], logger: logger)
        self.services.withLockedValue { $0 = services }
        Task {
            var failure: (any Error)?
            do {
                try await services.run()
            } catch {
                failure = error
            }
            if !running.withLockedValue({ $0 }) {
                bound.fail(failure ?? CancellationError())
            } else if let failure, !stopping.withLockedValue({ $0 }) {
                logger.error("admin listener stopped: \(failure)")
            }
            ended.lock()
            ended.unlock(withValue: true)
        }
        return try bound.futureResult.wait()
    }

    /// Stops listening and waits for the requests in progress (the server's shutdown): event
    /// streams end at their next tick.
    public func stop() {
        guard let services = services.withLockedValue({ $0 }) else { return }
        stopping.withLockedValue { $0 = true }
        Task { await services.triggerGracefulShutdown() }
        if ended.lock(whenValue: true, timeoutSeconds: 5) { ended.unlock() }
        try? group.syncShutdownGracefully()
    }

    /// The most a new point's settings may be.
    static let maximumPointSettings = 64 << 10

    private func router(_ source: Source) -> Router<BasicRequestContext> {
        let router = Router()
        if let token = settings.token, !token.isEmpty { router.add(middleware: BearerTokenMiddleware(token: token)) }
        let (registry, stopping) = (registry, stopping)
        router.get("/metrics") { _, _ in
            source.activity.collect()
            var text = [UInt8]()
            registry.emit(into: &text)
            // The Prometheus text exposition format, version 0.0.4.
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.get("/") { _, _ in
            let json = String(decoding: try AdminAPI.encoder.encode(AdminAPI.snapshot(source)), as: UTF8.self)
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html(snapshot: json))))
        }
        let api = router.group("/api/v1")
        api.get("status") { _, _ in AdminAPI.status(source) }
        api.get("points") { _, _ in AdminAPI.List(items: AdminAPI.points(source, sessions: source.activity.snapshot)) }
        api.get("sessions") { _, _ in
            let now = Date()
            return AdminAPI.List(items: source.activity.snapshot.map { AdminAPI.session($0, now: now) })
        }
        api.get("encoders") { _, _ in
            let now = Date()
            return AdminAPI.List(items: source.encoders().map { AdminAPI.encoder($0, now: now) })
        }
        // Server-sent events (HTML Living Standard 9.2): the whole state each second, until the
        // client goes.
        api.get("events") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: .init { writer in
                while !Task.isCancelled, !stopping.withLockedValue({ $0 }) {
                    let json = try AdminAPI.encoder.encode(AdminAPI.snapshot(source))
                    try await writer.write(ByteBuffer(string: "data: " + String(decoding: json, as: UTF8.self) + "\n\n"))
                    try await Task.sleep(for: .seconds(1))
                }
                try await writer.finish(nil)
            })
        }
        // The configuration read again, as SIGHUP does; refused with its error, the running one kept.
        api.post("reload") { _, _ in
            do {
                return AdminAPI.Reloaded(notes: try source.reload())
            } catch {
                throw HTTPError(.badRequest, message: "\(error)")
            }
        }
        // WMS's "stop" and "start" of a publishing point: stopped, its players get the end of its
        // stream and new ones are refused (404) until it starts again, made anew from its settings.
        for (action, running) in [("stop", false), ("start", true)] {
            api.post("points/:name/\(action)") { _, context -> AdminAPI.Point in
                let name = context.parameters.get("name") ?? ""
                do throws(PointControlError) {
                    try source.run(name, running)
                } catch {
                    throw error.httpError(point: name, running: running)
                }
                guard let point = AdminAPI.points(source, sessions: source.activity.snapshot).first(where: { $0.name == name }) else {
                    throw HTTPError(.notFound, message: "no configured point \(name)")
                }
                return point
            }
        }
        // A point added (its settings as the configuration file's `points` entries have them,
        // in JSON or YAML) or removed, in memory over the file until the server stops.
        api.post("points") { request, _ -> EditedResponse<AdminAPI.Point> in
            var request = request
            let body = try await request.collectBody(upTo: Self.maximumPointSettings)
            let name: String
            do throws(PointControlError) {
                name = try source.add(String(buffer: body))
            } catch {
                throw error.httpError(point: "")
            }
            guard let point = AdminAPI.points(source, sessions: source.activity.snapshot).first(where: { $0.name == name }) else {
                throw HTTPError(.internalServerError, message: "point \(name) added, but not listed")
            }
            return EditedResponse(status: .created, headers: [.location: "/api/v1/points/\(name)"], response: point)
        }
        api.delete("points/:name") { _, context -> HTTPResponse.Status in
            let name = context.parameters.get("name") ?? ""
            do throws(PointControlError) {
                try source.remove(name)
            } catch {
                throw error.httpError(point: name)
            }
            return .noContent
        }
        // The announcements players are handed: `?host=` names the server as they reach it.
        for kind in AnnouncementKind.allCases {
            api.get("points/:name/announcement.\(kind.rawValue)") { request, context -> Response in
                let name = context.parameters.get("name") ?? ""
                switch source.announcement(name, kind, request.uri.queryParameters["host"].map(String.init)) {
                case let .text(text, contentType):
                    return Response(status: .ok, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
                case .none:
                    throw HTTPError(.notFound, message: kind == .nsc ? "no multicast point \(name)" : "no point \(name)")
                case .notYet:
                    throw HTTPError(.serviceUnavailable, message: "point \(name) has no header to announce yet")
                }
            }
        }
        api.delete("sessions/:id") { _, context -> HTTPResponse.Status in
            guard let id = context.parameters.get("id", as: Int.self), source.activity.disconnect(id) else {
                throw HTTPError(.notFound, message: "no such session")
            }
            return .noContent
        }
        return router
    }
}
