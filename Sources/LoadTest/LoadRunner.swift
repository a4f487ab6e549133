import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Runs a load plan: sessions started at the connect rate on one event loop group (many
/// sessions per loop, no thread per session), a sample every second for the status line and the
/// timeline, and the end at the duration or the error limit.
public final class LoadRunner: Sendable {
    public let plan: LoadPlan
    private let group: EventLoopGroup
    /// `running`: the players still at work (a failed one that is replaced goes on).
    private let state = NIOLockedValueBox<(sessions: [LoadSession], timeline: [LoadSample], stopped: Bool, running: Int)>(([], [], false, 0))
    /// A session with no packet for this long (after its last one, or its start) has stalled.
    public let stallTimeout: TimeAmount

    public init(plan: LoadPlan, group: EventLoopGroup, stallTimeout: TimeAmount = .seconds(10)) {
        self.plan = plan
        self.group = group
        self.stallTimeout = stallTimeout
    }

    /// Runs to the end; `status` gets a line every second.
    public func run(status: @escaping @Sendable (LoadSample) -> Void = { _ in }) async -> LoadResult {
        let begin = NIODeadline.now()
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.sample(from: begin, status: status) }
            for i in 0..<plan.clients {
                let due = begin + .nanoseconds(Int64(Double(i) / plan.connectRate * 1e9))
                let wait = due - .now()
                if wait > .zero { try? await Task.sleep(nanoseconds: UInt64(wait.nanoseconds)) }
                guard !state.withLockedValue({ $0.stopped }) else { break }
                let url = plan.urls[i % plan.urls.count]
                let (driver, profile, interval, actions) = (plan.player.driver, plan.profile, plan.interval, plan.actions ?? .max)
                let (group, tolerance, reconnects) = (self.group, plan.tolerance, plan.reconnects)
                state.withLockedValue { $0.running += 1 }
                tasks.addTask {
                    defer { self.state.withLockedValue { $0.running -= 1 } }
                    while true {
                        let session = LoadSession(index: i, started: .now(), tolerance: tolerance)
                        guard self.state.withLockedValue({ s in
                            if !s.stopped { s.sessions.append(session) }
                            return !s.stopped
                        }) else { return }
                        do {
                            try await profile.run(driver, url: url, session: session, group: group, interval: interval, actions: actions)
                            session.end(.finished)
                        } catch {
                            session.end(.failed(Self.cause(error)))
                        }
                        guard reconnects else { return }
                        try? await Task.sleep(nanoseconds: 1_000_000_000)
                    }
                }
            }
        }
        let (sessions, timeline) = state.withLockedValue { ($0.sessions, $0.timeline) }
        return LoadResult(plan: plan, began: begin, ended: .now(), records: sessions.map(\.record), timeline: timeline)
    }

    /// Once a second: the status sample; stalled sessions failed; the end at the duration or
    /// the error limit.
    private func sample(from begin: NIODeadline, status: @Sendable (LoadSample) -> Void) async {
        var lastBytes = 0
        var lastTime = begin
        while true {
            try? await Task.sleep(nanoseconds: 1_000_000_000)
            let now = NIODeadline.now()
            let (sessions, running) = state.withLockedValue { ($0.sessions, $0.running) }
            var records: [SessionRecord] = []
            records.reserveCapacity(sessions.count)
            for session in sessions {
                var record = session.record
                let quiet = now - (record.lastPacket ?? record.started)
                if record.ended == nil, quiet > stallTimeout, !session.isStopping {
                    session.end(.failed(record.firstPacket == nil ? "no data (stalled)" : "stalled"))
                    session.stop()
                    record = session.record
                }
                records.append(record)
            }
            let bytes = records.reduce(0) { $0 + $1.bytes }
            let sample = LoadSample(records, seconds: Double((now - begin).nanoseconds) / 1e9,
                                    bitsPerSecond: Double(bytes - lastBytes) * 8 / (Double((now - lastTime).nanoseconds) / 1e9))
            lastBytes = bytes
            lastTime = now
            state.withLockedValue { $0.timeline.append(sample) }
            status(sample)
            let over = now - begin >= plan.duration || sample.failed >= plan.errorLimit
            let allEnded = sessions.count >= plan.clients && running == 0
            if over || allEnded {
                let all = state.withLockedValue { s in
                    s.stopped = true
                    return s.sessions
                }
                for session in all { session.stop() }
                return
            }
        }
    }

    /// The cause a failure is counted under.
    static func cause(_ error: Error) -> String {
        switch error {
        case let failure as LoadFailure: return failure.description
        case let error as IOError where error.errnoCode == ECONNREFUSED: return "connection refused"
        case ChannelError.connectTimeout: return "connect timeout"
        case ChannelError.eof, ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed: return "connection closed"
        case is NIOConnectionError: return "connection refused"
        default: return "\(error)"
        }
    }
}

/// The test at one second: sessions by state, aggregate rate, time to first packet so far.
public struct LoadSample: Sendable, Codable {
    public var seconds: Double
    public var started: Int
    public var playing: Int
    public var failed: Int
    public var bitsPerSecond: Double
    public var firstPacketP50: Double?
    public var firstPacketP99: Double?

    init(_ records: [SessionRecord], seconds: Double, bitsPerSecond: Double) {
        self.seconds = seconds
        started = records.count
        playing = records.filter { $0.outcome == .playing }.count
        failed = records.filter { if case .failed = $0.outcome { true } else { false } }.count
        self.bitsPerSecond = bitsPerSecond
        let ttfp = LatencyHistogram(records.compactMap(\.timeToFirstPacket))
        firstPacketP50 = ttfp.milliseconds(atPercentile: 50)
        firstPacketP99 = ttfp.milliseconds(atPercentile: 99)
    }

    /// The status line.
    public var line: String {
        let p = { (v: Double?) in v.map { "\(Int($0.rounded()))" } ?? "-" }
        return "\(Int(seconds.rounded()))s  sessions \(started) started, \(playing) playing, \(failed) failed  "
            + "\(decimal(bitsPerSecond / 1e6, 1)) Mbit/s  first packet p50 \(p(firstPacketP50)) ms p99 \(p(firstPacketP99)) ms"
    }
}

/// `value` with `digits` decimals.
func decimal(_ value: Double, _ digits: Int) -> String {
    String(format: "%.\(digits)f", value)
}
