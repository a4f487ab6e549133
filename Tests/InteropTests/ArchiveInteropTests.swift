import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Interop {
    /// Issue 16: a pushed point archived to ASF (`archive:`), played while it is written, and
    /// complete after the encoder's end, a SIGTERM, or readable after a crash.
    @Suite
    struct ArchiveInteropTests {
        /// A media root of its own holding demo.wmv, and a server whose /push point archives into it.
        static func archivingServer() throws -> (ServerProcess, root: String) {
            let root = temporaryFile("archive-root")
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: PushInteropTests.demo, toPath: root + "/demo.wmv")
            let config = "points:\n  - name: push\n    path: /push\n    push: true\n    archive: archive/<V>-<Y><m><d>-<H><M><S>.wmv\n"
            return (try ServerProcess(config: config, mediaRoot: root), root)
        }

        /// The archive being written, once it holds `bytes`.
        static func archive(in root: String, holding bytes: Int, limit: TimeInterval = 30) throws -> String {
            var archive: String?
            try waitUntil("an archive of \(bytes) bytes in \(root)/archive", limit: limit) {
                let names = (try? FileManager.default.contentsOfDirectory(atPath: root + "/archive")) ?? []
                archive = names.first { $0.hasSuffix(".wmv") }.map { root + "/archive/" + $0 }
                return archive.map { ((try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int) ?? 0) >= bytes } ?? false
            }
            return archive!
        }

        /// Codec and packet count of each stream, as ffprobe counts them.
        static func streams(_ path: String) throws -> [String] {
            try probe(path).streams.map { "\($0["codec_name"] as? String ?? "?") \($0["nb_read_packets"] as? String ?? "?")" }
        }

        @Test func aPushedFileIsArchivedCompleteAndPlayedWhileWritten() throws {
            let (server, root) = try Self.archivingServer()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let pusher = try PushInteropTests.pusher(server, [PushInteropTests.demo])
            // Play While Archiving: the file is played on demand while the push goes on.
            let path = try Self.archive(in: root, holding: 150_000)
            let name = URL(fileURLWithPath: path).lastPathComponent
            let during = temporaryFile("during.asf")
            defer { try? FileManager.default.removeItem(atPath: during) }
            let played = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(server.url)/archive/\(name)", "-c", "copy", "-f", "asf", during])
            #expect(played.status == 0, "\(played.output)")
            #expect(!server.logText.contains("closed:"), "the archive was still being written")
            let partial = try probe(during)
            #expect(partial.streams.count == 2)
            #expect(partial.duration >= 2, "\(partial.duration) s of the archive so far")
            #expect(try BroadcastInteropTests.decodeErrors(during).isEmpty)
            let pushed = try pusher.finish()
            #expect(pushed.status == 0, "\(pushed.output)")
            try PushInteropTests.waitForLog(server, "archive \(path) closed")
            // The same streams, codecs and packets as the file pushed, its duration within 0.5 s.
            #expect(try Self.streams(path) == (try Self.streams(PushInteropTests.demo)))
            let source = try probe(PushInteropTests.demo), archived = try probe(path)
            #expect(abs(archived.duration - source.duration) <= 0.5, "\(archived.duration) s archived of \(source.duration) s")
            #expect(try BroadcastInteropTests.decodeErrors(path).isEmpty)
            // Seekable by its Simple Index: from 10 s on, about 10 s are left.
            let sought = temporaryFile("sought.asf")
            defer { try? FileManager.default.removeItem(atPath: sought) }
            let seek = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-ss", "10", "-i", path, "-c", "copy", "-f", "asf", sought])
            #expect(seek.status == 0, "\(seek.output)")
            let rest = try probe(sought).duration
            #expect(rest > 8 && rest < 11.5, "\(rest) s after -ss 10")
            let report = try run(ServerProcess.asfcast, ["probe", path])
            #expect(report.output.contains("seekable") && report.output.contains("simple index"), "\(report.output)")
        }

        /// SIGTERM completes the archive being written; after a SIGKILL it is readable up to its
        /// last whole packet.
        @Test(arguments: [SIGTERM, SIGKILL])
        func anArchiveOutlivesTheServersEnd(signal: Int32) throws {
            let (server, root) = try Self.archivingServer()
            defer { try? FileManager.default.removeItem(atPath: root) }
            let pusher = try PushInteropTests.pusher(server, ["--loop", PushInteropTests.demo])
            let path = try Self.archive(in: root, holding: 100_000)
            kill(server.process.processIdentifier, signal)
            server.process.waitUntilExit()
            try PushInteropTests.stop(pusher)
            let report = try run(ServerProcess.asfcast, ["probe", "--json", path])
            #expect(report.status == 0, "\(report.output)")
            let received = try probe(path)
            #expect(received.streams.count == 2)
            // Whatever the header says (nothing, after a crash), the packets read and decode.
            for stream in received.streams {
                #expect(Int(stream["nb_read_packets"] as? String ?? "") ?? 0 >= 20, "\(stream)")
            }
            #expect(try BroadcastInteropTests.decodeErrors(path).isEmpty)
            if signal == SIGTERM {
                // Completed: its sizes and count stated, seekable.
                let json = try #require(try JSONSerialization.jsonObject(with: Data(report.output.utf8)) as? [String: Any])
                #expect((json["departures"] as? [String])?.isEmpty == true, "\(json["departures"] ?? "")")
                #expect(json["seekable"] as? Bool == true)
            }
        }
    }
}

extension Interop.ArchiveInteropTests {
    /// The archive's disk is full (`/dev/full`: every write fails with ENOSPC): one clear log
    /// line, and the point's player gets the whole broadcast.
    @Test func aFullDiskStopsTheArchiveNotThePlayers() throws {
        let server = try ServerProcess(config: "points:\n  - name: push\n    path: /push\n    push: true\n    archive: /dev/full\n")
        let pusher = try Interop.PushInteropTests.pusher(server, [Interop.PushInteropTests.demo])
        try Interop.PushInteropTests.waitForLog(server, "point push: 2 streams")
        let out = temporaryFile("full-disk.asf")
        defer { try? FileManager.default.removeItem(atPath: out) }
        let player = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(server.url)/push", "-c", "copy", "-f", "asf", out])
        #expect(player.status == 0, "\(player.output)")
        #expect(try pusher.finish().status == 0)
        try Interop.PushInteropTests.expectPlayable(out, seconds: 15, "the player of a point whose archive disk is full")
        let failures = server.logText.split(separator: "\n").filter { $0.contains("/dev/full") && $0.contains("error") }
        #expect(failures.count == 1, "\(failures)")
        #expect(failures.first?.contains("No space left on device") == true, "\(failures)")
    }
}
