import Foundation
import Testing
@testable import Streaming

struct AccessLogTests {
    /// A session's line: the W3C fields in order, its date and time in UTC, spaces in the user
    /// agent made underscores, "-" for what the server does not know.
    @Test func sessionLineHasTheW3CFields() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("asfcast-log-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let log = try AccessLog(path: path)
        // 2026-11-23 04:05:06 UTC.
        log.write(ServedSession(clientIP: "10.0.0.7", uriStem: "/demo.wmv", userAgent: "NSPlayer/12.0.7601 WMP",
                                playerID: "{c77e7400-738a-11d2-9add-0020af0a3278}", protocolName: "mmsu", transport: "UDP", startSeconds: 39,
                                durationSeconds: 42, bytes: 1000, packets: 5, resendRequests: 3, serverIP: "10.0.0.1"),
                  date: Date(timeIntervalSince1970: 1_795_406_706))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let fields = try #require(lines.first { $0.hasPrefix("#Fields:") }).split(separator: " ").dropFirst().map(String.init)
        let values = try #require(lines.last).split(separator: " ").map(String.init)
        let line = Dictionary(uniqueKeysWithValues: zip(fields, values))
        #expect(values.count == fields.count)
        #expect(line["date"] == "2026-11-23" && line["time"] == "04:05:06")
        #expect(line["c-ip"] == "10.0.0.7" && line["cs-uri-stem"] == "/demo.wmv" && line["x-duration"] == "42")
        #expect(line["cs-User-Agent"] == "NSPlayer/12.0.7601_WMP" && line["c-dns"] == "-")
        #expect(line["c-starttime"] == "39" && line["c-playerversion"] == "12.0.7601" && line["c-resendreqs"] == "3")
        #expect(line["c-playerid"] == "{c77e7400-738a-11d2-9add-0020af0a3278}" && line["protocol"] == "mmsu")
        #expect(line["transport"] == "UDP" && line["avgbandwidth"] == "190" && line["s-totalclients"] == "0")
        #expect(line["c-rate"] == "1" && line["s-dns"] == ProcessInfo.processInfo.hostName)
        #expect(Int(line["s-cpu-util"] ?? "").map { (0...100).contains($0) } == true, "\(line)")
    }

    /// c-playerid only ever holds a GUID in registry form (VLC's `0x` groups and GStreamer's
    /// zeros are none), and c-playerversion is the first product's version.
    @Test func playerIDsAndVersionsAsTheFieldsTakeThem() {
        #expect(ServedSession.registryGUID("{3300AD50-2C39-46c0-AE0A-70BCC4CE2E4E}") == "{3300AD50-2C39-46c0-AE0A-70BCC4CE2E4E}")
        #expect(ServedSession.registryGUID("B64345F5-8C45-4818-8A1A-4775F0923FAC") == "{B64345F5-8C45-4818-8A1A-4775F0923FAC}")
        #expect(ServedSession.registryGUID("{0xbabac001-0x3749-0xe4b5-0x293d4bd558eaa775}") == nil)
        #expect(ServedSession.registryGUID("00000000-0000-0000-0000-000000000000") == nil)
        #expect(ServedSession.registryGUID(nil) == nil)
        #expect(ServedSession.rtspPlayerID(userAgent: "WMPlayer/9.0.0.2833 guid/B64345F5-8C45-4818-8A1A-4775F0923FAC")
            == "B64345F5-8C45-4818-8A1A-4775F0923FAC")
        #expect(ServedSession.playerVersion("NSPlayer/7.10.0.3059") == "7.10.0.3059")
        #expect(ServedSession.playerVersion("Lavf/59.27.100") == "59.27.100")
        #expect(ServedSession.playerVersion("-") == nil)
    }

    /// Daily rotation: the first line of a new day (UTC) moves the day's file to `<path>.<day>`
    /// and begins a new one with its directives; size rotation moves the file before the line
    /// that would take it past the size.
    @Test func rotationStartsANewFileEachDayOrAtASize() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("asfcast-log-\(UUID().uuidString).log").path
        let day1 = Date(timeIntervalSince1970: 1_795_406_706), day2 = day1.addingTimeInterval(86_400)
        defer {
            for file in (try? FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory())) ?? []
            where (NSTemporaryDirectory() + "/" + file).hasPrefix(NSTemporaryDirectory() + "/" + (path as NSString).lastPathComponent) {
                try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "/" + file)
            }
        }
        func line(_ log: AccessLog, _ date: Date, _ stem: String) {
            log.write(ServedSession(clientIP: "10.0.0.7", uriStem: stem, userAgent: "NSPlayer/12.0", protocolName: "http/1.0", transport: "TCP",
                                    durationSeconds: 1, bytes: 1, packets: 1, serverIP: "10.0.0.1"), date: date)
        }
        func entries(_ file: String) -> [Substring] {
            ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").filter { !$0.hasPrefix("#") }
        }
        let daily = try AccessLog(path: path, rotation: .daily)
        line(daily, day1, "/first")
        line(daily, day1.addingTimeInterval(60), "/again")
        line(daily, day2, "/second")
        #expect(entries(path + ".2026-11-23").map { $0.contains("/first") || $0.contains("/again") } == [true, true])
        #expect(entries(path).count == 1 && entries(path).first?.contains("/second") == true)
        #expect(try String(contentsOfFile: path, encoding: .utf8).hasPrefix("#Software: Asfcast\n#Version: 1.0\n#Date: 2026-11-24 "))

        // The size of a file of directives and one line, measured; a little more is the limit,
        // so each line after a file's first begins a new file.
        let measured = path + ".measured"
        line(try AccessLog(path: measured), day1, "/0")
        let size = try #require(FileManager.default.attributesOfItem(atPath: measured)[.size] as? Int)
        let sized = path + ".sized"
        let bySize = try AccessLog(path: sized, rotation: .size(size + 10))
        for i in 0..<3 { line(bySize, day1.addingTimeInterval(Double(i)), "/\(i)") }
        #expect(entries(sized + ".20261123-040507").first?.contains("/0") == true)
        #expect(entries(sized + ".20261123-040508").first?.contains("/1") == true)
        #expect(entries(sized).count == 1 && entries(sized).first?.contains("/2") == true)
    }
}
