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

        /// A line for each session every engine ends, read by a W3C extended log reader (lars,
        /// made for IIS's logs): its protocol and transport, where the player began, who it is
        /// (its GUID and version), its bytes, resend requests where UDP resend is used, and the
        /// players connected then.
        @Test
        func eachEngineWritesItsSessionsLine() throws {
            let path = temporaryFile("access.log")
            defer { try? FileManager.default.removeItem(atPath: path) }
            let server = try ServerProcess(config: "access_log: \"\(path)\"\n")
            // ffmpeg seeks over mmsh with a Play at the time (after a first request from 0) and
            // over RTSP with a second PLAY; mmst does not seek.
            for input in [["-ss", "5", "-i", "mmsh://\(server.url)/demo.wmv"], ["-rtsp_transport", "udp", "-ss", "5", "-i", "rtsp://\(server.rtspURL)/demo.wmv"],
                          ["-i", "mmst://\(server.mmsURL)/demo.wmv"]] {
                #expect(try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error"] + input + ["-t", "3", "-c", "copy", "-f", "asf", "-y", "/dev/null"]).status == 0)
            }
            try waitUntil("four sessions' lines") { Self.lines(path).count == 4 }
            let lines = try Self.read(path)
            #expect(lines.map { "\($0["protocol"] ?? "") \($0["transport"] ?? "")" } == ["http/1.0 TCP", "http/1.0 TCP", "rtsp UDP", "mmst TCP"], "\(lines)")
            for line in lines {
                #expect(line["cs_uri_stem"] == "/demo.wmv" && line["c_ip"] == "127.0.0.1" && line["c_status"] == "200", "\(line)")
                #expect((Int(line["sc_bytes"] ?? "") ?? 0) > 0 && Int(line["s_totalclients"] ?? "") != nil, "\(line)")
            }
            #expect(lines.map { $0["c_starttime"] } == ["0", "5", "5", "0"], "\(lines)")
            // ffmpeg's fixed xClientGUID (CLIENTS.md 1.1) and its MMS subscriber GUID; its RTSP
            // User-Agent (Lavf59…) has neither a GUID nor a product version.
            #expect(lines.map { $0["c_playerid"] } == ["{c77e7400-738a-11d2-9add-0020af0a3278}", "{c77e7400-738a-11d2-9add-0020af0a3278}",
                                                       "None", "{7E667F5D-A661-495E-A512-F55686DDA178}"], "\(lines)")
            #expect(lines.map { $0["c_playerversion"] } == ["4.1.0.3856", "4.1.0.3856", "None", "7.0.0.1956"], "\(lines)")
            #expect(lines.map { $0["c_resendreqs"] } == ["None", "None", "0", "None"], "\(lines)")
        }

        /// The log's entries as lars reads them (its field names, `-` read as None), as strings.
        static func read(_ path: String) throws -> [[String: String]] {
            let script = """
            import json, sys
            import lars.iis
            with open(sys.argv[1]) as f, lars.iis.IISSource(f) as source:
                print(json.dumps([{k: str(getattr(v, "path_str", v)) for k, v in row._asdict().items()} for row in source]))
            """
            let out = try run(ServerProcess.root.appendingPathComponent(".build-python/bin/python").path, ["-c", script, path], limit: 30)
            guard out.status == 0 else { throw Failure("lars cannot read the access log: \(out.output)") }
            return try JSONDecoder().decode([[String: String]].self, from: Data(out.output.utf8))
        }

        /// The entries of a W3C log (its lines but the `#` directives).
        static func lines(_ path: String) -> [Substring] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").filter { !$0.hasPrefix("#") }
        }
    }
}
