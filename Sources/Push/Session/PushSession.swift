import Atomics
import CoreMetrics
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Streaming

/// One encoder's push session (MS-WMHTTP 3.2.3), named by its push-id across the connections it
/// uses: the PushSetup's, each PushStart's, and a reconnect's. A session exists only once its
/// encoder was let in: its push-id stands for the credentials after. It outlives a connection that
/// drops by the Idle-Timeout, so that an encoder may resume (3.2.7.1).
public final class PushSession: @unchecked Sendable {
    public let id: String
    public let pointName: String
    public let live: LivePoint
    /// PushSetup's AutoDestroy (2.2.2.1.2).
    public let autoDestroy: Bool
    /// The path of the point its PushSetup made from a template, if it did.
    public let createdPath: String?
    private let state: NIOLockedValueBox<State>
    /// Body bytes from the encoder, every PushStart's.
    private let receivedBytes = ManagedAtomic<Int>(0)
    public let created = Date()
    /// /metrics: the point's bytes in, and its PushStarts (the first and each reconnect).
    private let counters: (bytes: Counter, starts: Counter)?

    struct State {
        var machine = IngestStateMachine()
        var feed: LiveFeed?
        /// The connection streaming its PushStart body now.
        var owner: Channel?
        var expiry: Scheduled<Void>?
        var unreadable = 0
        var userAgent = ""
    }

    init(id: String, pointName: String, live: LivePoint, autoDestroy: Bool, createdPath: String?, activity: ServerActivity?) {
        self.id = id
        let labels = [("point", pointName)]
        if let bytes = activity?.counter("asfcast_encoder_received_bytes_total", labels),
           let starts = activity?.counter("asfcast_encoder_push_starts_total", labels) {
            counters = (bytes, starts)
        } else {
            counters = nil
        }
        self.createdPath = createdPath
        self.pointName = pointName
        self.live = live
        self.autoDestroy = autoDestroy
        state = NIOLockedValueBox(State())
    }

    public var feed: LiveFeed? { state.withLockedValue(\.feed) }

    /// The encoder as the admin API shows it: its address while a connection streams, its
    /// User-Agent, and the body bytes it sent.
    public var encoder: (address: String?, userAgent: String, bytesReceived: Int) {
        let (owner, agent) = state.withLockedValue { ($0.owner, $0.userAgent) }
        return (owner?.remoteAddress?.ipAddress, agent, receivedBytes.load(ordering: .relaxed))
    }

    /// A PushStart of this session begins, from an encoder that calls itself `userAgent`.
    func started(userAgent: String) {
        state.withLockedValue { $0.userAgent = userAgent }
        counters?.starts.increment()
    }

    func received(_ count: Int) {
        receivedBytes.wrappingIncrement(by: count, ordering: .relaxed)
        counters?.bytes.increment(by: Int64(count))
    }

    /// `channel` streams the session's body from now on; the connection it replaces, if any.
    func own(by channel: Channel) -> Channel? {
        state.withLockedValue { s in
            s.expiry?.cancel()
            s.expiry = nil
            defer { s.owner = channel }
            return s.owner === channel ? nil : s.owner
        }
    }

    func isOwned(by channel: Channel) -> Bool { state.withLockedValue { $0.owner === channel } }

    /// The frame through the state machine, if `channel` still owns the session.
    func receive(_ frame: PushFrame, on channel: Channel) -> IngestStateMachine.Action {
        state.withLockedValue { s in
            guard s.owner === channel else { return .none }
            return s.machine.receive(frame)
        }
    }

    func setFeed(_ feed: LiveFeed) { state.withLockedValue { $0.feed = feed } }

    /// Counts a packet that was refused; true for the first (logged once per session).
    func countUnreadable() -> Bool {
        state.withLockedValue { s in
            s.unreadable += 1
            return s.unreadable == 1
        }
    }

    /// `channel` stopped streaming (nil: none was streaming yet): the session ends after
    /// `timeout` unless a PushStart resumes it.
    func release(_ channel: Channel?, expiringAfter timeout: TimeAmount, on loop: EventLoop, expire: @escaping @Sendable () -> Void) {
        state.withLockedValue { s in
            guard s.owner === channel else { return }
            s.owner = nil
            s.expiry?.cancel()
            s.expiry = loop.scheduleTask(in: timeout) { expire() }
        }
    }

    /// Another encoder took the point over: the session lets go of its feed, which goes on with
    /// the new one, and returns the connection it was streaming on.
    func abandon() -> Channel? {
        state.withLockedValue { s in
            s.expiry?.cancel()
            s.expiry = nil
            s.feed = nil
            defer { s.owner = nil }
            return s.owner
        }
    }

    /// The session is over: its feed ends (the players get the end of the stream once the point
    /// has played what it holds). Returns the feed it ended, if any.
    @discardableResult
    func end() -> LiveFeed? {
        let feed = state.withLockedValue { s -> LiveFeed? in
            s.expiry?.cancel()
            s.expiry = nil
            s.owner = nil
            defer { s.feed = nil }
            return s.feed
        }
        if let feed { live.end(feed) }
        return feed
    }
}

extension PushSession {
    /// The session ends (`end()`), and the connection that was streaming it is returned, for the
    /// caller to close.
    func endAndLetGo() -> Channel? {
        let owner = state.withLockedValue(\.owner)
        end()
        return owner
    }
}

/// Every push session of the server, by push-id.
public final class PushSessions: Sendable {
    private let sessions = NIOLockedValueBox<[String: PushSession]>([:])
    private let activity: ServerActivity?

    /// With `activity`, each point's encoders are counted in /metrics: their bytes and
    /// PushStarts, and those streaming now (`asfcast_encoders_connected{point}`, brought up to
    /// date as /metrics is read; 0 for a point whose encoders all went).
    public init(activity: ServerActivity? = nil) {
        self.activity = activity
        let seen = NIOLockedValueBox<Set<String>>([])
        activity?.whenCollected { [sessions] in
            var streaming: [String: Int] = [:]
            for session in sessions.withLockedValue({ Array($0.values) }) {
                streaming[session.pointName, default: 0] += session.encoder.address == nil ? 0 : 1
            }
            let points = seen.withLockedValue { seen in
                seen.formUnion(streaming.keys)
                return seen
            }
            for point in points {
                activity?.meter("asfcast_encoders_connected", [("point", point)])?.set(Double(streaming[point] ?? 0))
            }
        }
    }

    /// A new session with a push-id that is random, never 0, and unique (3.2.3); WMS's are 32-bit decimals.
    func create(pointName: String, live: LivePoint, autoDestroy: Bool, createdPath: String? = nil) -> PushSession {
        sessions.withLockedValue { sessions in
            var id: String
            repeat { id = String(UInt32.random(in: 1...UInt32.max)) } while sessions[id] != nil
            let session = PushSession(id: id, pointName: pointName, live: live, autoDestroy: autoDestroy, createdPath: createdPath,
                                      activity: activity)
            sessions[id] = session
            return session
        }
    }

    /// The first of `ids` that names a session of `pointName`.
    func session(among ids: [String], point pointName: String) -> PushSession? {
        sessions.withLockedValue { sessions in
            for id in ids {
                if let session = sessions[id], session.pointName == pointName { return session }
            }
            return nil
        }
    }

    /// The session streaming to `pointName` on a connection now, other than `except`.
    func streaming(to pointName: String, except: PushSession) -> PushSession? {
        sessions.withLockedValue { sessions in
            sessions.values.first { $0 !== except && $0.pointName == pointName && $0.feed != nil && $0.feed?.isFinished == false }
        }
    }

    func remove(_ session: PushSession) {
        _ = sessions.withLockedValue { $0.removeValue(forKey: session.id) }
    }

    /// The point `live` is gone (a reload removed or changed it): each of its sessions ends, its
    /// players get the end of the stream, and its encoder's connection closes (the encoder's
    /// reconnect finds the point as it is now). Returns how many sessions it ended.
    @discardableResult
    public func end(pushingTo live: LivePoint) -> Int {
        let ended = sessions.withLockedValue { sessions in
            let ended = sessions.values.filter { $0.live === live }
            for session in ended { sessions.removeValue(forKey: session.id) }
            return ended
        }
        for session in ended { session.endAndLetGo()?.close(promise: nil) }
        return ended.count
    }

    public var count: Int { sessions.withLockedValue(\.count) }

    /// Every session, by push-id.
    public var all: [PushSession] { sessions.withLockedValue { $0.values.sorted { $0.id < $1.id } } }
}
