import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Interop {
    /// Issue 18 §6: the configuration reloaded without dropping players. On SIGHUP the server
    /// reads its file again: a point added plays, one removed is gone, a removed broadcast's
    /// player gets the end of its stream, and the player of an unchanged point records its
    /// whole stream cleanly across the reload. An invalid file is refused with its line, and
    /// the points stay as they were. The admin API reloads as SIGHUP does.
    @Suite
    struct ReloadInteropTests {
        static let media = ServerProcess.root.appendingPathComponent("Media").path

        @Test
        func sighupChangesThePointsWhileTheOthersPlayOn() throws {
            let server = try ServerProcess(config: """
                points:
                  - {name: live, path: /live, broadcast: demo.wmv}
                  - {name: loop, path: /loop, broadcast: demo.wmv}
                  - {name: old, path: /old, directory: \(Self.media)}
                """)
            let recording = temporaryFile("live.asf")
            defer { try? FileManager.default.removeItem(atPath: recording) }
            let live = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", "mmsh://\(server.url)/live", "-t", "12",
                                                         "-c", "copy", "-f", "asf", "-y", recording])
            let loop = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", "mmsh://\(server.url)/loop", "-t", "120",
                                                         "-c", "copy", "-f", "asf", "-y", "/dev/null"])
            try waitUntil("both players playing") { ((try? AdminInteropTests.sessions(server)) ?? []).count == 2 }
            #expect(Self.status(server, "/old/demo.wmv") == 200)

            try """
                points:
                  - {name: live, path: /live, broadcast: demo.wmv}
                  - {name: new, path: /new, file: demo.wmv}
                """.write(toFile: server.configFile, atomically: true, encoding: .utf8)
            kill(server.process.processIdentifier, SIGHUP)
            try waitUntil("the reload") { server.logText.contains("configuration reloaded") }
            #expect(server.logText.contains("configuration reloaded: 2 points, 1 added, 0 changed, 2 removed"), "\(server.logText)")
            #expect(Self.status(server, "/new") == 200)
            #expect(Self.status(server, "/old/demo.wmv") == 404)
            // The removed broadcast's player is told its stream ended, long before its -t.
            _ = try loop.finish(limit: 20)

            // A file that does not load: refused with its line, the points kept.
            try "points:\n  - {name: live, path: /live, broadcast: demo.wmv}\n  - {name: new, path: /new, file: demo.wmv, colour: red}\n"
                .write(toFile: server.configFile, atomically: true, encoding: .utf8)
            kill(server.process.processIdentifier, SIGHUP)
            try waitUntil("the refusal") { server.logText.contains("reload refused") }
            #expect(server.logText.contains("\(server.configFile):3: unknown key 'colour' in a point"), "\(server.logText)")
            #expect(Self.status(server, "/new") == 200)

            // The admin API reloads as SIGHUP does, and says why it refuses.
            let refused = try AdminInteropTests.get(server, "/api/v1/reload", method: "POST")
            #expect(refused.status == 400 && refused.body.contains((server.configFile as NSString).lastPathComponent), "\(refused)")
            try "points:\n  - {name: live, path: /live, broadcast: demo.wmv}\n".write(toFile: server.configFile, atomically: true, encoding: .utf8)
            let reloaded = try AdminInteropTests.get(server, "/api/v1/reload", method: "POST")
            #expect(reloaded.status == 200 && reloaded.body.contains("\"notes\""), "\(reloaded)")
            #expect(Self.status(server, "/new") == 404)

            // The unchanged point's player recorded all of its 12 s through three reloads.
            let played = try live.finish(limit: 60)
            #expect(played.status == 0 && played.output.isEmpty, "\(played.output)")
            try PushInteropTests.expectPlayable(recording, seconds: 11.5, "the /live player across the reloads")
        }

        /// Points that hold more than a file: a reload removes a push point with its encoder
        /// pushing, its player and its archive, and adds a pulled point with a multicast group
        /// and an MSBD listener; the next reload removes that one with what it holds.
        @Test
        func aReloadAddsAndRemovesPointsWithWhatTheyHold() throws {
            let archives = temporaryFile("archives")
            try FileManager.default.createDirectory(atPath: archives, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: archives) }
            let server = try ServerProcess(config: """
                points:
                  - {name: live, path: /live, broadcast: demo.wmv}
                  - {name: in, path: /in, push: true, archive: "\(archives)/in.wmv"}
                """)
            let pusher = try ClientRun(ServerProcess.asfcast, ["push", "--loop", "http://\(server.url)/in", PushInteropTests.demo])
            try PushInteropTests.waitForLog(server, "point in: 2 streams")
            let recording = temporaryFile("in.asf")
            defer { try? FileManager.default.removeItem(atPath: recording) }
            let player = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", "mmsh://\(server.url)/in", "-t", "120",
                                                           "-c", "copy", "-f", "asf", "-y", recording])
            try waitUntil("the /in player playing") { ((try? AdminInteropTests.sessions(server)) ?? []).count == 1 }
            try PushInteropTests.waitForSize(recording, 100_000)
            #expect(Self.status(server, "/relay.nsc") == 404)

            let msbd = try ServerProcess.freePort(), group = try ServerProcess.freePort()
            try """
                points:
                  - {name: live, path: /live, broadcast: demo.wmv}
                  - name: relay
                    path: /relay
                    broadcast: http://\(server.url)/live
                    msbd_port: \(msbd)
                    multicast: {group: 239.255.43.9, port: \(group), ttl: 1, interface: 127.0.0.1}
                """.write(toFile: server.configFile, atomically: true, encoding: .utf8)
            kill(server.process.processIdentifier, SIGHUP)
            try waitUntil("the reload") { server.logText.contains("configuration reloaded") }
            #expect(server.logText.contains("configuration reloaded: 2 points, 1 added, 0 changed, 1 removed"), "\(server.logText)")

            // The push point's player gets the end of its stream, long before its -t, and holds
            // what was pushed; the archive is complete; the encoder, disconnected, finds no point.
            let played = try player.finish(limit: 30)
            #expect(played.status == 0, "\(played.output)")
            try PushInteropTests.expectPlayable(recording, seconds: 2, "the /in player")
            let archived = try FileManager.default.contentsOfDirectory(atPath: archives)
            #expect(archived == ["in.wmv"], "\(archived)")
            if archived.count == 1 { try PushInteropTests.expectPlayable(archives + "/in.wmv", seconds: 2, "the archive of /in") }
            let pushed = try pusher.finish(limit: 60)
            #expect(pushed.status == 1 && pushed.output.contains("404"), "asfcast push: \(pushed.output)")

            // The pulled point plays, announces its group and listens for MSBD.
            try PushInteropTests.expectFFmpegRecords("mmsh://\(server.url)/relay", seconds: 4, "the /relay player")
            #expect(Self.status(server, "/relay.nsc") == 200)
            #expect(ServerProcess.connect(port: msbd))

            try "points:\n  - {name: live, path: /live, broadcast: demo.wmv}\n".write(toFile: server.configFile, atomically: true, encoding: .utf8)
            kill(server.process.processIdentifier, SIGHUP)
            try waitUntil("the second reload") { server.logText.contains("configuration reloaded: 1 points, 0 added, 0 changed, 1 removed") }
            #expect(Self.status(server, "/relay.nsc") == 404)
            #expect(Self.status(server, "/relay") == 404)
            try waitUntil("the MSBD listener closed") { !ServerProcess.connect(port: msbd) }
            try waitUntil("the relay's connection to /live closed: \((try? AdminInteropTests.sessions(server)) ?? [])") { ((try? AdminInteropTests.sessions(server)) ?? []).isEmpty }
        }

        /// The HTTP status of a plain GET of `path`.
        static func status(_ server: ServerProcess, _ path: String) -> Int {
            (try? run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://\(server.url)\(path)"], limit: 30).output).flatMap { Int($0) } ?? 0
        }
    }
}
