import Foundation
import Testing

extension Interop {
    /// Real clients against `asfcast serve` on loopback (issue 3's done-when list).
    @Suite
    struct WMSPInteropTests {
        static let demo = ServerProcess.root.appendingPathComponent("Media/demo.wmv").path

        /// Media objects per codec, as ffprobe counts them.
        static func packets(_ path: String) throws -> [String: Int] {
            Dictionary(uniqueKeysWithValues: try probe(path).streams.map { ($0["codec_name"] as! String, Int($0["nb_read_packets"] as! String)!) })
        }

        @Test func ffmpegReceivesTheWholeFileOverMMSH() throws {
            let server = try ServerProcess()
            let out = temporaryFile("ffmpeg.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(server.url)/demo.wmv", "-c", "copy", "-f", "asf", out])
            #expect(result.status == 0, "\(result.output)")
            let source = try probe(Self.demo)
            let received = try probe(out)
            #expect(received.streams.map { $0["codec_name"] as? String } == source.streams.map { $0["codec_name"] as? String })
            #expect(abs(received.duration - source.duration) < 0.5)
            #expect(try Self.packets(out) == Self.packets(Self.demo), "every media object arrived")
            // The server sent every ASF data packet of the file.
            #expect(server.logText.contains("play ended: 220 packets"), "\(server.logText)")
            #expect(!result.output.contains("Strange chunk"))
        }

        @Test func ffmpegSeekStartsNearTheTenSecondMark() throws {
            let server = try ServerProcess()
            let out = temporaryFile("seek.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-ss", "10", "-i", "mmsh://\(server.url)/demo.wmv", "-c", "copy", "-f", "asf", out])
            #expect(result.status == 0, "\(result.output)")
            let source = try probe(Self.demo)
            let received = try probe(out)
            // The output runs from where playback started to the end of the file.
            let start = source.duration - received.duration
            #expect(abs(start - 10) < 1, "started at \(start) s")
        }

        @Test func vlcReceivesTheWholeFile() throws {
            let server = try ServerProcess()
            try withVLCRecording("mmsh://\(server.url)/demo.wmv") { result, out in
                #expect(result.status == 0, "\(result.output)")
                try Self.expectWholeFile(out)
            }
            #expect(server.logText.contains("play ended: 220 packets"))
        }

        /// VLC's ASF muxer holds back the last media object of each stream when it closes.
        static func expectWholeFile(_ out: String) throws {
            let source = try packets(demo)
            let received = try packets(out)
            #expect(received.keys == source.keys)
            #expect(source.allSatisfy { codec, count in (count - 2...count).contains(received[codec] ?? -1) }, "\(received) of \(source)")
        }

        @Test func plainHTTPClientGetsTheFileWithRanges() throws {
            let server = try ServerProcess()
            let out = temporaryFile("http.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "http://\(server.url)/demo.wmv", "-c", "copy", "-f", "asf", out])
            #expect(result.status == 0, "\(result.output)")
            #expect(try Self.packets(out) == Self.packets(Self.demo))

            let size = try FileManager.default.attributesOfItem(atPath: Self.demo)[.size] as! Int
            let whole = try server.raw("GET /demo.wmv HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8\r\n\r\n")
            #expect(whole.hasPrefix("HTTP/1.1 200 OK"))
            #expect(whole.lowercased().contains("content-length: \(size)"))
            let part = try server.raw("GET /demo.wmv HTTP/1.1\r\nHost: x\r\nRange: bytes=100-199\r\n\r\n")
            #expect(part.hasPrefix("HTTP/1.1 206 Partial Content"))
            #expect(part.lowercased().contains("content-range: bytes 100-199/\(size)"))
        }

        @Test func badRequestsGetErrorsAndTheServerKeepsServing() throws {
            let server = try ServerProcess()
            let player = "User-Agent: NSPlayer/7.10.0.3059\r\nPragma: no-cache,rate=1.000000,stream-time=0\r\n"
            for path in ["/missing.wmv", "/../Makefile", "/%2e%2e/Makefile", "/Media/../../etc/passwd", "/"] {
                let answer = try server.raw("GET \(path) HTTP/1.0\r\n\(player)\r\n")
                #expect(answer.hasPrefix("HTTP/1.0 404"), "\(path): \(answer.prefix(40))")
            }
            let switchEntry = try server.raw("GET /demo.wmv HTTP/1.0\r\n\(player)Pragma: xPlayStrm=1\r\nPragma: stream-switch-entry=ffff:9:0\r\n\r\n")
            #expect(switchEntry.hasPrefix("HTTP/1.0 400"))
            let garbage = try server.raw("\u{1}\u{2}garbage\r\n\r\n")
            #expect(garbage.hasPrefix("HTTP/1.1 400"))
            // Still serving.
            let describe = try server.raw("GET /demo.wmv HTTP/1.0\r\n\(player)\r\n")
            #expect(describe.hasPrefix("HTTP/1.0 200 OK"))
            #expect(describe.contains("application/vnd.ms.wms-hdr.asfv1"))
        }
    }
}

extension Interop {
    /// The server-side playlist sample over mmsh: both entries in one session.
    @Suite
    struct PlaylistInteropTests {
        @Test func ffmpegPlaysBothEntriesInOneSession() throws {
            let server = try ServerProcess()
            let out = temporaryFile("playlist.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(server.url)/playlist.wsx", "-c", "copy", "-f", "asf", out])
            #expect(result.status == 0, "\(result.output)")
            // demo.wmv (20 s, 300 frames) then the first 5 s of noindex.wmv (75 frames at 15 fps).
            let received = try probe(out)
            #expect(abs(received.duration - 25) < 0.5, "\(received.duration) s")
            let video = try #require(received.streams.first { $0["codec_type"] as? String == "video" })
            let frames = Int(video["nb_read_packets"] as! String)!
            #expect((370...380).contains(frames), "\(frames) video frames")
            #expect(try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", out, "-f", "null", "-"]).output.isEmpty)
            #expect(server.logText.contains("play ended"))
        }
    }
}
