import NIOConcurrencyHelpers

/// Player and bandwidth limits, server-wide and per publishing point. Consulted once when a
/// client starts playing, so its lock is never on the packet path.
public final class AdmissionControl: Sendable {
    public struct Limits: Sendable, Equatable {
        /// nil: no limit.
        public var maximumPlayers: Int?
        public var maximumBitsPerSecond: UInt64?

        public init(maximumPlayers: Int? = nil, maximumBitsPerSecond: UInt64? = nil) {
            self.maximumPlayers = maximumPlayers
            self.maximumBitsPerSecond = maximumBitsPerSecond
        }
    }

    private struct Usage {
        var players = 0
        var bitsPerSecond: UInt64 = 0
    }

    private struct State {
        var total = Usage()
        var points: [String: Usage] = [:]
        /// Each point's limits, by name (a reload replaces them).
        var limits: [String: Limits]
    }

    private let server: Limits
    private let state: NIOLockedValueBox<State>

    public init(server: Limits = .init(), points: [String: Limits] = [:]) {
        self.server = server
        state = NIOLockedValueBox(State(limits: points))
    }

    /// The points' limits from now on (a reload); players admitted go on as they were.
    public func setPointLimits(_ points: [String: Limits]) {
        state.withLockedValue { $0.limits = points }
    }

    /// The bit rate admitted to each point's players now, by point name (WMS's allocated
    /// bandwidth): every point that had a player since the start, 0 when it has none now.
    public var allocatedBitsPerSecond: [String: UInt64] {
        state.withLockedValue { $0.points.mapValues(\.bitsPerSecond) }
    }

    /// The limits of the point named `point`: its own, not the server's.
    public func limits(of point: String) -> Limits {
        state.withLockedValue { $0.limits[point] ?? Limits() }
    }

    /// Why a player was refused.
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case players(scope: String, limit: Int)
        case bandwidth(scope: String, limit: UInt64)

        public var description: String {
            switch self {
            case let .players(scope, limit): return "\(scope) already has its maximum of \(limit) players"
            case let .bandwidth(scope, limit): return "\(scope) would exceed its maximum of \(limit / 1000) kbit/s"
            }
        }
    }

    /// Counts a player of `point` at `bitsPerSecond`, or refuses it. Release the admission when
    /// the player stops.
    public func admit(point: String, bitsPerSecond: UInt64) throws -> Admission {
        try state.withLockedValue { state in
            let usage = state.points[point] ?? Usage()
            try Self.check(usage, adding: bitsPerSecond, against: state.limits[point] ?? .init(), scope: "publishing point \(point)")
            try Self.check(state.total, adding: bitsPerSecond, against: server, scope: "the server")
            state.points[point, default: Usage()].players += 1
            state.points[point, default: Usage()].bitsPerSecond += bitsPerSecond
            state.total.players += 1
            state.total.bitsPerSecond += bitsPerSecond
        }
        return Admission(control: self, point: point, bitsPerSecond: bitsPerSecond)
    }

    private static func check(_ usage: Usage, adding bits: UInt64, against limits: Limits, scope: String) throws {
        if let max = limits.maximumPlayers, usage.players >= max { throw Refusal.players(scope: scope, limit: max) }
        if let max = limits.maximumBitsPerSecond, usage.bitsPerSecond + bits > max { throw Refusal.bandwidth(scope: scope, limit: max) }
    }

    fileprivate func release(point: String, bitsPerSecond: UInt64) {
        state.withLockedValue { state in
            state.points[point]?.players -= 1
            state.points[point]?.bitsPerSecond -= bitsPerSecond
            state.total.players -= 1
            state.total.bitsPerSecond -= bitsPerSecond
        }
    }
}

/// One admitted player; released once, explicitly or when dropped.
public final class Admission: Sendable {
    private let control: AdmissionControl
    private let point: String
    private let bitsPerSecond: UInt64
    private let released = NIOLockedValueBox(false)

    fileprivate init(control: AdmissionControl, point: String, bitsPerSecond: UInt64) {
        self.control = control
        self.point = point
        self.bitsPerSecond = bitsPerSecond
    }

    public func release() {
        let first = released.withLockedValue { done in
            defer { done = true }
            return !done
        }
        if first { control.release(point: point, bitsPerSecond: bitsPerSecond) }
    }

    deinit { release() }
}
