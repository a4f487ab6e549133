import ASF
import Foundation
import Logging
import NIOConcurrencyHelpers
import Streaming
import Testing

/// What a logger was given, level by level.
final class CapturedLog: LogHandler, @unchecked Sendable {
    let lines = NIOLockedValueBox<[(Logger.Level, String)]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        lines.withLockedValue { $0.append((event.level, "\(event.message)")) }
    }
    func count(_ level: Logger.Level) -> Int { lines.withLockedValue { $0.filter { $0.0 == level }.count } }
}

struct StreamFailuresTests {
    @Test func aFileThatFailsManySessionsIsLoggedOnceUntilItChanges() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("failing-\(UUID()).wmv").path
        try Data(repeating: 0, count: 1000).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let captured = CapturedLog()
        let logger = Logger(label: "test") { _ in captured }
        let failures = StreamFailures()
        for offset in [3200, 6400, 9600] {
            failures.log(ASFError(path, at: offset, .truncated(needed: 3200, available: 10)), logger: logger)
        }
        #expect(captured.count(.error) == 1 && captured.count(.debug) == 2)
        // Another kind of failure on the same file, and the same failure once the file changed.
        failures.log(ASFError(path, at: 0, .io("Input/output error")), logger: logger)
        try Data(repeating: 0, count: 2000).write(to: URL(fileURLWithPath: path))
        failures.log(ASFError(path, at: 3200, .truncated(needed: 3200, available: 10)), logger: logger)
        #expect(captured.count(.error) == 3)
        // Not a file's: each is logged.
        failures.log(ASFError("Header Object", at: 0, .invalidSize(1)), logger: logger)
        failures.log(ASFError("Header Object", at: 0, .invalidSize(1)), logger: logger)
        #expect(captured.count(.error) == 5)
    }
}
