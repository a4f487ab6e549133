import Foundation
import NIOConcurrencyHelpers

/// The server's access log in the W3C extended format that Windows Media Services writes: one
/// line per client log submission (MS-WMLOG fields) or per session the server ends itself.
/// Rotated by logrotate (SIGUSR1 reopens it), or by itself each day or at a size, as WMS's
/// logging plug-in did: the full file moves to `<path>.<date>` and a new one begins.
public final class AccessLog: Sendable {
    public enum Rotation: Sendable, Equatable {
        case none
        /// At the first line of a new day (UTC): to `<path>.2026-11-23`.
        case daily
        /// Before the line that would take the file past this many bytes: to `<path>.20261123-140509`.
        case size(Int)
    }

    /// The open file, the day its lines are of, its size, and whether it has lines yet (a file
    /// of directives only is not rotated).
    private struct File {
        var handle: FileHandle
        var day: String
        var bytes: Int
        var hasLines: Bool
    }

    private let file: NIOLockedValueBox<File?>
    public let path: String?
    public let rotation: Rotation
    /// The players connected now, for each line's s-totalclients.
    private let totalClients: @Sendable () -> Int
    private let processorLoad = ProcessorLoad()
    /// This machine's name, each line's s-dns.
    private let serverName = ProcessInfo.processInfo.hostName

    /// Appends to `path`, writing the directives when the file is new; nil discards.
    public init(path: String?, rotation: Rotation = .none, totalClients: @escaping @Sendable () -> Int = { 0 }) throws {
        self.path = path
        self.rotation = rotation
        self.totalClients = totalClients
        file = NIOLockedValueBox(try path.map { try Self.open($0, at: Date()) })
    }

    /// Opens the file at its path again (SIGUSR1, after logrotate moved it away): the lines
    /// that follow go to a new file with its own directives.
    public func reopen() throws {
        guard let path else { return }
        let opened = try Self.open(path, at: Date())
        file.withLockedValue {
            try? $0?.handle.close()
            $0 = opened
        }
    }

    private static func open(_ path: String, at date: Date) throws -> File {
        let (day, time) = w3cDateAndTime(date)
        let isNew = !FileManager.default.fileExists(atPath: path)
        if isNew { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path])
        }
        var bytes = Int(handle.seekToEndOfFile())
        if isNew {
            let directives = Data("#Software: Asfcast\n#Version: 1.0\n#Date: \(day) \(time)\n#Fields: \(WMLog.basicFields.joined(separator: " "))\n".utf8)
            handle.write(directives)
            bytes += directives.count
        }
        return File(handle: handle, day: day, bytes: bytes, hasLines: !isNew)
    }

    public func write(_ entry: WMLog, date: Date = Date()) {
        guard let path else { return }
        let line = Data((entry.line + "\n").utf8)
        let day = Self.w3cDateAndTime(date).0
        file.withLockedValue { file in
            guard var current = file else { return }
            let suffix: String? = switch rotation {
            case .none: nil
            case .daily: day != current.day && current.hasLines ? current.day : nil
            case let .size(limit): current.bytes + line.count > limit && current.hasLines ? Self.stamp(date) : nil
            }
            if let suffix {
                try? current.handle.close()
                do {
                    try FileManager.default.moveItem(atPath: path, toPath: Self.free(path + "." + suffix))
                    current = try Self.open(path, at: date)
                } catch {
                    // Left where it was (a read-only directory): go on writing to it.
                    guard let reopened = try? Self.open(path, at: date) else {
                        file = nil
                        return
                    }
                    current = reopened
                }
            }
            current.handle.write(line)
            current.bytes += line.count
            current.hasLines = true
            current.day = day
            file = current
        }
    }

    /// `path`, or with `-1`, `-2`… after it when that is taken.
    private static func free(_ path: String) -> String {
        var candidate = path, n = 0
        while FileManager.default.fileExists(atPath: candidate) {
            n += 1
            candidate = "\(path)-\(n)"
        }
        return candidate
    }

    /// `20261123-140509`.
    private static func stamp(_ date: Date) -> String {
        let (day, time) = w3cDateAndTime(date)
        return day.replacingOccurrences(of: "-", with: "") + "-" + time.replacingOccurrences(of: ":", with: "")
    }

    /// A line for a session the server ended, when the client sent no log of its own.
    /// Nothing is formatted when there is no log: sessions end by the thousand when a show does.
    public func write(_ session: ServedSession, date: Date = Date()) {
        guard path != nil else { return }
        let (day, time) = Self.w3cDateAndTime(date)
        var values = [String: String]()
        values["c-ip"] = session.clientIP
        values["date"] = day
        values["time"] = time
        values["cs-uri-stem"] = session.uriStem
        values["c-starttime"] = "\(session.startSeconds)"
        values["x-duration"] = "\(session.durationSeconds)"
        values["c-status"] = "\(session.status)"
        values["c-playerid"] = ServedSession.registryGUID(session.playerID)
        values["c-playerversion"] = ServedSession.playerVersion(session.userAgent)
        values["cs-User-Agent"] = session.userAgent.replacingOccurrences(of: " ", with: "_")
        values["protocol"] = session.protocolName
        values["transport"] = session.transport
        values["sc-bytes"] = "\(session.bytes)"
        // MS-WMLOG 2.1.2 as the server sees it: bits per second over the session.
        if session.durationSeconds > 0 { values["avgbandwidth"] = "\(session.bytes * 8 / session.durationSeconds)" }
        values["c-resendreqs"] = session.resendRequests.map { "\($0)" }
        values["s-totalclients"] = "\(totalClients())"
        values["s-cpu-util"] = "\(processorLoad.percent)"
        values["s-dns"] = serverName
        // Played at the normal rate (WMS logs 1 but for fast forward and rewind, not served here).
        values["c-rate"] = "1"
        values["s-pkts-sent"] = "\(session.packets)"
        values["s-ip"] = session.serverIP
        let entry = WMLog(fields: WMLog.basicFields.map { (name: $0, value: values[$0] ?? "-") })
        write(entry, date: date)
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
