import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Interop {
    /// Issue 18 §7: the access log is opened again on SIGUSR1, as logrotate moves it away: the
    /// next session's line goes to a new file at the configured path, with its own directives.
    @Suite
    struct AccessLogInteropTests {
        @Test
        func sigusr1ReopensTheAccessLogAfterItWasMoved() throws {
            let path = temporaryFile("access.log")
            let rotated = path + ".1"
            defer { for file in [path, rotated] { try? FileManager.default.removeItem(atPath: file) } }
            let server = try ServerProcess(config: "access_log: \"\(path)\"\n")
            let play = ["-nostdin", "-v", "error", "-i", "mmsh://\(server.url)/demo.wmv", "-c", "copy", "-f", "asf", "-y", "/dev/null"]
            #expect(try run("/usr/bin/ffmpeg", play).status == 0)
            try waitUntil("the first session's line") { Self.lines(path).count == 1 }

            try FileManager.default.moveItem(atPath: path, toPath: rotated)
            kill(server.process.processIdentifier, SIGUSR1)
            try waitUntil("a new access log after SIGUSR1") { FileManager.default.fileExists(atPath: path) }
            #expect(try run("/usr/bin/ffmpeg", play).status == 0)
            try waitUntil("the second session's line in the new file") { Self.lines(path).count == 1 }

            let fresh = try String(contentsOfFile: path, encoding: .utf8)
            #expect(fresh.hasPrefix("#Software: Asfcast\n#Version: 1.0\n#Date: "))
            #expect(fresh.contains("\n#Fields: c-ip date time "))
            #expect(Self.lines(rotated).count == 1, "the moved file got more lines")
            #expect(Self.lines(path).first?.contains("/demo.wmv") == true)
        }

        /// A line for each session every engine ends, with its protocol and transport, its
        /// bytes and average bandwidth, and the players connected then.
        @Test
        func eachEngineWritesItsSessionsLine() throws {
            let path = temporaryFile("access.log")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let server = try ServerProcess(config: "access_log: \"\(path)\"\n")
            for input in [["-i", "mmsh://\(server.url)/demo.wmv"], ["-rtsp_transport", "udp", "-i", "rtsp://\(server.rtspURL)/demo.wmv"],
                          ["-i", "mmst://\(server.mmsURL)/demo.wmv"]] {
                #expect(try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error"] + input + ["-t", "3", "-c", "copy", "-f", "asf", "-y", "/dev/null"]).status == 0)
            }
            try waitUntil("three sessions' lines") { Self.lines(path).count == 3 }
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let fields = try #require(text.split(separator: "\n").first { $0.hasPrefix("#Fields: ") }).split(separator: " ").dropFirst().map(String.init)
            let lines = Self.lines(path).map { Dictionary(uniqueKeysWithValues: zip(fields, $0.split(separator: " ").map(String.init))) }
            #expect(lines.map { "\($0["protocol"] ?? "") \($0["transport"] ?? "")" } == ["http/1.0 TCP", "rtsp UDP", "mmst TCP"], "\(text)")
            for line in lines {
                #expect(line["cs-uri-stem"] == "/demo.wmv" && line["c-ip"] == "127.0.0.1", "\(line)")
                #expect((Int(line["sc-bytes"] ?? "") ?? 0) > 0 && Int(line["s-totalclients"] ?? "") != nil, "\(line)")
            }
        }

        /// The entries of a W3C log (its lines but the `#` directives).
        static func lines(_ path: String) -> [Substring] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").filter { !$0.hasPrefix("#") }
        }
    }
}
