import NIOConcurrencyHelpers
import NIOCore

/// The connections of every TCP listener together: how many one address holds, how fast it
/// opens them (a token bucket per address), and how many the process may hold before its
/// open-file limit. A connection over a limit is closed at once, before any protocol speaks.
/// One lock, taken once when a connection opens and once when it closes.
public final class ConnectionLimiter: Sendable {
    public struct Limits: Sendable, Equatable {
        /// Connections one address may hold; 0: no limit.
        public var perAddress: Int
        /// Connections one address may open a second (a burst of as many); 0: no limit.
        public var ratePerAddress: Int
        /// Connections the whole server may hold: the open-file limit less a reserve for files,
        /// UDP sockets and listeners.
        public var total: Int

        public init(perAddress: Int = 0, ratePerAddress: Int = 0, total: Int = .max) {
            self.perAddress = perAddress
            self.ratePerAddress = ratePerAddress
            self.total = total
        }
    }

    public enum Refusal: Equatable, CustomStringConvertible, Sendable {
        case tooManyFromAddress(Int)
        case tooFast(Int)
        case nearOpenFileLimit(Int)

        public var description: String {
            switch self {
            case let .tooManyFromAddress(n): "already \(n) connections from this address"
            case let .tooFast(n): "more than \(n) new connections a second from this address"
            case let .nearOpenFileLimit(n): "\(n) connections open, near the open-file limit"
            }
        }
    }

    private struct Address {
        var open = 0
        var tokens: Double
        var refilled: NIODeadline
        /// Whether a refusal was logged since the address was last under its limits.
        var refusing = false
    }

    private struct State {
        var addresses: [String: Address] = [:]
        var total = 0
        var refusingTotal = false
        /// Connections closed by the request timeouts since the last report, and its time.
        var timedOut = 0
        var lastReport: NIODeadline?
    }

    /// How often the request timeouts' closures are reported: a flood of slow clients is one
    /// log line per interval, with its count, not one per connection.
    static let reportInterval = TimeAmount.seconds(10)

    public let limits: Limits
    private let state = NIOLockedValueBox(State())

    public init(limits: Limits) {
        self.limits = limits
    }

    /// Takes a place for a connection from `address`, or says why not; `firstRefusal` is true
    /// for the first refusal of a run, the one worth a log line.
    public func open(from address: String, now: NIODeadline = .now()) -> (refusal: Refusal, firstRefusal: Bool)? {
        state.withLockedValue { state in
            if state.total >= limits.total {
                defer { state.refusingTotal = true }
                return (.nearOpenFileLimit(state.total), !state.refusingTotal)
            }
            state.refusingTotal = false
            let rate = Double(limits.ratePerAddress)
            var entry = state.addresses[address] ?? Address(tokens: rate, refilled: now)
            if rate > 0 {
                entry.tokens = min(rate, entry.tokens + rate * Double((now - entry.refilled).nanoseconds) / 1e9)
                entry.refilled = now
            }
            let refusal: Refusal?
            if limits.perAddress > 0, entry.open >= limits.perAddress {
                refusal = .tooManyFromAddress(entry.open)
            } else if rate > 0, entry.tokens < 1 {
                refusal = .tooFast(limits.ratePerAddress)
            } else {
                refusal = nil
            }
            if let refusal {
                let first = !entry.refusing
                entry.refusing = true
                state.addresses[address] = entry
                return (refusal, first)
            }
            entry.open += 1
            entry.tokens -= 1
            entry.refusing = false
            state.addresses[address] = entry
            state.total += 1
            return nil
        }
    }

    /// A connection `open` let in has closed.
    public func close(from address: String) {
        state.withLockedValue { state in
            state.total -= 1
            guard var entry = state.addresses[address] else { return }
            entry.open -= 1
            // An address with nothing open and a full bucket is forgotten: the table holds only
            // addresses with connections or recent ones.
            if entry.open == 0, limits.ratePerAddress == 0 || entry.tokens >= Double(limits.ratePerAddress) - 1 {
                state.addresses[address] = nil
            } else {
                state.addresses[address] = entry
            }
        }
    }

    /// A connection was closed by a request timeout: the number to report now (this one and
    /// those since the last report), or nil while the interval has not passed.
    public func timedOut(now: NIODeadline = .now()) -> Int? {
        state.withLockedValue { state in
            state.timedOut += 1
            if let last = state.lastReport, now - last < Self.reportInterval { return nil }
            defer { state.timedOut = 0; state.lastReport = now }
            return state.timedOut
        }
    }

    public var openConnections: Int { state.withLockedValue { $0.total } }
}
