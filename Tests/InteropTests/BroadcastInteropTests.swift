import Foundation
import Testing

extension Interop {
    /// The /live broadcast point of the shipped configuration (demo.wmv in a loop) with real clients.
    @Suite
    struct BroadcastInteropTests {
        /// ffprobe's video packets (media objects) of a received file: their key flags, in order.
        static func videoKeyFlags(_ path: String) throws -> [Bool] {
            let out = try run("/usr/bin/ffprobe", ["-v", "error", "-select_streams", "v", "-show_entries", "packet=flags", "-of", "csv=p=0", path])
            return out.output.split(separator: "\n").map { $0.hasPrefix("K") }
        }

        /// Decoding errors ffmpeg reports for a file (empty when it decodes cleanly).
        /// What ffmpeg says decoding `path`. The null muxer's complaint of two frames in one slot
        /// of the stream's nominal frame rate is left out: a loop's seam (a file's last frame
        /// 47 ms before the next loop's first, at 15 fps) rounds to the same slot, and it says
        /// nothing of the decoding.
        static func decodeErrors(_ path: String) throws -> String {
            try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", path, "-f", "null", "-"]).output
                .split(separator: "\n", omittingEmptySubsequences: true)
                .filter { !$0.contains("non monotonically increasing dts to muxer") }
                .joined(separator: "\n")
        }

        /// 20 ffmpeg clients of `url` at once (input options `options`): each must get at least
        /// 10 s of both streams, from a key frame, decodable.
        static func twentyClientsGetTenSeconds(of url: String, options: [String] = []) throws {
            let outputs = (0..<20).map { temporaryFile("live-\($0).asf") }
            defer { for o in outputs { try? FileManager.default.removeItem(atPath: o) } }
            let results = try runConcurrently(outputs.count, "/usr/bin/ffmpeg") { i in
                ["-nostdin", "-v", "error", "-y"] + options + ["-i", url, "-t", "11", "-c", "copy", "-f", "asf", outputs[i]]
            }
            for (result, out) in zip(results, outputs) {
                #expect(result.status == 0, "\(result.output)")
                let received = try probe(out)
                #expect(received.streams.count == 2)
                #expect(received.duration >= 10, "\(out): \(received.duration) s")
                #expect(try videoKeyFlags(out).first == true)
                #expect(try decodeErrors(out).isEmpty)
            }
        }

        @Test func twentyFFmpegClientsEachReceiveTenSecondsOfDecodableContent() throws {
            let server = try ServerProcess()
            try Self.twentyClientsGetTenSeconds(of: "mmsh://\(server.url)/live")
        }

        @Test func lateJoinerStartsWithAKeyFrame() throws {
            let server = try ServerProcess()
            // Clients one after another join the running broadcast at different points of its GOPs.
            for duration in ["2.3", "1.7", "2.9", "1.1"] {
                let out = temporaryFile("late.asf")
                defer { try? FileManager.default.removeItem(atPath: out) }
                let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(server.url)/live", "-t", duration, "-c", "copy", "-f", "asf", out])
                #expect(result.status == 0, "\(result.output)")
                let flags = try Self.videoKeyFlags(out)
                #expect(flags.first == true, "first video payloads: \(flags.prefix(3))")
                #expect(try Self.decodeErrors(out).isEmpty)
            }
            #expect(server.logText.contains("joined with"))
        }

        @Test func broadcastRunsOnPastTheEndOfTheFile() throws {
            let server = try ServerProcess()
            let out = temporaryFile("loop.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            // demo.wmv lasts 20 s: 24 s of the broadcast cross the loop at least once.
            let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(server.url)/live", "-t", "24", "-c", "copy", "-f", "asf", out])
            #expect(result.status == 0, "\(result.output)")
            let received = try probe(out)
            #expect(received.duration >= 23)
            #expect(try Self.decodeErrors(out).isEmpty)
        }

        /// Issue 18 §6: a server that stops (SIGTERM, as systemd stops it) gives its broadcast
        /// players the end of the stream in their protocol: ffmpeg over WMSP and RTSP ends
        /// cleanly with what it recorded, long before its -t.
        @Test func aStoppingServerEndsItsPlayersStreams() throws {
            let server = try ServerProcess()
            let outputs = ["mmsh", "rtsp"].map { temporaryFile("stopping-\($0).asf") }
            defer { for o in outputs { try? FileManager.default.removeItem(atPath: o) } }
            let players = try zip([["-i", "mmsh://\(server.url)/live"], ["-rtsp_transport", "tcp", "-i", "rtsp://\(server.rtspURL)/live"]], outputs).map {
                try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error"] + $0 + ["-t", "120", "-c", "copy", "-f", "asf", "-y", $1])
            }
            for out in outputs { try PushInteropTests.waitForSize(out, 200_000) }
            server.stop()
            #expect(server.logText.contains("stopping: 2 players of broadcasts get the end of the stream"), "\(server.logText.suffix(1000))")
            for (player, out) in zip(players, outputs) {
                let played = try player.finish(limit: 20)
                #expect(played.status == 0, "\(out): \(played.output)")
                try PushInteropTests.expectPlayable(out, seconds: 2, out)
            }
        }

        @Test func vlcPlaysTheBroadcast() throws {
            let server = try ServerProcess()
            try withVLCRecording("mmsh://\(server.url)/live", options: ["--run-time", "8"]) { result, out in
                #expect(result.status == 0, "\(result.output)")
                let received = try probe(out)
                #expect(received.streams.count == 2)
                #expect(received.duration >= 5, "\(received.duration) s")
            }
        }
    }
}
