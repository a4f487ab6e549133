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
        log.write(clientIP: "10.0.0.7", uriStem: "/live", userAgent: "NSPlayer/12.0 WMP", protocolName: "http/1.0", durationSeconds: 42,
                  bytes: 1000, packets: 5, status: 200, serverIP: "10.0.0.1", date: Date(timeIntervalSince1970: 1_795_406_706))
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        let fields = try #require(lines.first { $0.hasPrefix("#Fields:") }).split(separator: " ").dropFirst().map(String.init)
        let values = try #require(lines.last).split(separator: " ").map(String.init)
        let line = Dictionary(uniqueKeysWithValues: zip(fields, values))
        #expect(values.count == fields.count)
        #expect(line["date"] == "2026-11-23" && line["time"] == "04:05:06")
        #expect(line["c-ip"] == "10.0.0.7" && line["cs-uri-stem"] == "/live" && line["x-duration"] == "42")
        #expect(line["cs-User-Agent"] == "NSPlayer/12.0_WMP" && line["c-dns"] == "-")
    }
}
