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
            #expect(fresh.hasPrefix("#Software: Asfcast\n#Version: 1.0\n#Fields: "))
            #expect(Self.lines(rotated).count == 1, "the moved file got more lines")
            #expect(Self.lines(path).first?.contains("/demo.wmv") == true)
        }

        /// The entries of a W3C log (its lines but the `#` directives).
        static func lines(_ path: String) -> [Substring] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").filter { !$0.hasPrefix("#") }
        }
    }
}
