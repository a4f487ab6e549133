import Foundation
import NIOConcurrencyHelpers

/// The server's access log in the W3C extended format that Windows Media Services writes: one
/// line per client log submission (MS-WMLOG fields) or per session the server ends itself.
public final class AccessLog: Sendable {
    private let handle: NIOLockedValueBox<FileHandle?>
    public let path: String?

    /// Appends to `path`, writing the `#Fields` directive when the file is new; nil discards.
    public init(path: String?) throws {
        self.path = path
        handle = NIOLockedValueBox(try path.map(Self.open))
    }

    /// Opens the file at its path again (SIGUSR1, after logrotate moved it away): the lines
    /// that follow go to a new file with its own directives.
    public func reopen() throws {
        guard let path else { return }
        let file = try Self.open(path)
        handle.withLockedValue {
            try? $0?.close()
            $0 = file
        }
    }

    private static func open(_ path: String) throws -> FileHandle {
        let isNew = !FileManager.default.fileExists(atPath: path)
        if isNew { FileManager.default.createFile(atPath: path, contents: nil) }
        guard let file = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        file.seekToEndOfFile()
        if isNew {
            file.write(Data("#Software: Asfcast\n#Version: 1.0\n#Fields: \(WMLog.basicFields.joined(separator: " "))\n".utf8))
        }
        return file
    }

    public func write(_ entry: WMLog) {
        let line = entry.line + "\n"
        handle.withLockedValue { $0?.write(Data(line.utf8)) }
    }

    /// A line for a session the server ended, when the client sent no log of its own.
    /// Nothing is formatted when there is no log: sessions end by the thousand when a show does.
    public func write(clientIP: String, uriStem: String, userAgent: String, protocolName: String, durationSeconds: Int,
                      bytes: Int, packets: Int, status: Int, serverIP: String, date: Date = Date()) {
        guard path != nil else { return }
        let (day, time) = Self.w3cDateAndTime(date)
        var values = [String: String]()
        values["c-ip"] = clientIP
        values["date"] = day
        values["time"] = time
        values["cs-uri-stem"] = uriStem
        values["x-duration"] = "\(durationSeconds)"
        values["c-status"] = "\(status)"
        values["cs-User-Agent"] = userAgent.replacingOccurrences(of: " ", with: "_")
        values["protocol"] = protocolName
        values["transport"] = "TCP"
        values["sc-bytes"] = "\(bytes)"
        values["s-pkts-sent"] = "\(packets)"
        values["s-ip"] = serverIP
        let entry = WMLog(fields: WMLog.basicFields.map { (name: $0, value: values[$0] ?? "-") })
        write(entry)
    }
}

extension AccessLog {
    /// `2026-11-23` and `14:05:09`, in UTC as W3C logs keep them.
    static func w3cDateAndTime(_ date: Date) -> (String, String) {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return ("\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))",
                "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))")
    }
}

extension WMLog {
    init(fields: [(name: String, value: String)]) {
        self.fields = fields
    }
}
