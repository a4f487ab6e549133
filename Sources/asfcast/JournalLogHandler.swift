import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Log lines for the journal, when systemd connects standard error to it: without the time,
/// which the journal keeps itself, and with the level as the syslog priority prefix (`<3>`:
/// sd-daemon(3)), so that `journalctl -p warning` picks the warnings and worse.
struct JournalLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let tags = all.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        // One write(2) per line: lines from several threads do not interleave.
        FileHandle.standardError.write(Data("<\(Self.priority(event.level))>\(event.level) \(label):\(tags) \(event.message)\n".utf8))
    }

    /// syslog(3) priorities: LOG_DEBUG 7 … LOG_CRIT 2.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// Whether standard error is the journal: systemd sets JOURNAL_STREAM to its device and inode
    /// (systemd.exec(5)), which a redirected standard error no longer has.
    static var standardErrorIsTheJournal: Bool {
        guard let value = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] else { return false }
        let parts = value.split(separator: ":")
        var status = stat()
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]), fstat(2, &status) == 0 else { return false }
        return UInt64(status.st_dev) == device && UInt64(status.st_ino) == inode
    }
}
