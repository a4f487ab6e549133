import ASF
import Foundation
import Logging
import NIOConcurrencyHelpers

/// A session's stream that fails (a file cut short or unreadable under it) is logged once per
/// file and kind of failure, at error; the sessions that meet the same failure after it, at
/// debug. A file that changes (another size) is a new file: its failures are logged again. So
/// a truncated file played by 500 sessions is one line, not 500.
public final class StreamFailures: Sendable {
    public static let shared = StreamFailures()

    public init() {}

    private struct Key: Hashable {
        var file: String
        var size: Int64
        var kind: String
    }

    private let seen = NIOLockedValueBox<Set<Key>>([])
    /// Most failures remembered; then the set starts again (each then logged once more).
    static let limit = 10_000

    /// Logs `error`, a session's stream failure, as said above.
    public func log(_ error: Error, logger: Logger) {
        guard let key = Self.key(error) else { return logger.error("stream failed: \(error)") }
        let first = seen.withLockedValue { seen in
            if seen.count >= Self.limit { seen.removeAll() }
            return seen.insert(key).inserted
        }
        if first {
            logger.error("stream failed: \(error) (other sessions failing so on this file: at debug)")
        } else {
            logger.debug("stream failed: \(error)")
        }
    }

    /// A failure of a file's content: its path, its size now, and the reason's kind.
    private static func key(_ error: Error) -> Key? {
        guard let error = error as? ASFError, error.context.hasPrefix("/") else { return nil }
        let size = (try? FileManager.default.attributesOfItem(atPath: error.context)[.size] as? Int64) ?? -1
        let kind: String
        switch error.reason {
        case .truncated: kind = "truncated"
        case .invalidSize: kind = "size"
        case .invalidValue: kind = "value"
        case .unexpectedGUID: kind = "guid"
        case .io: kind = "io"
        }
        return Key(file: error.context, size: size, kind: kind)
    }
}
