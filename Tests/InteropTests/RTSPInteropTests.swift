import Foundation
import Testing

extension Interop {
    /// RTSP with the Windows Media extensions, played by ffmpeg over TCP-interleaved RTP.
    @Suite
    struct RTSPInteropTests {
        @Test func ffmpegOverTCPReceivesTheFileWithoutErrors() throws {
            let server = try ServerProcess()
            let out = temporaryFile("rtsp.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            // ffmpeg waits for TEARDOWN at the end of an MS-RTSP stream (CLIENTS.md 3.3): -t ends it.
            let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-rtsp_transport", "tcp",
                                                      "-i", "rtsp://\(server.rtspURL)/demo.wmv", "-t", "19", "-c", "copy", "-f", "asf", out])
            #expect(result.status == 0, "\(result.output)")
            let received = try probe(out)
            let source = try probe(ServerProcess.root.appendingPathComponent("Media/demo.wmv").path)
            #expect(received.streams.map { $0["codec_name"] as? String } == source.streams.map { $0["codec_name"] as? String })
            #expect(abs(received.duration - 19) < 0.5)
            let video = try #require(received.streams.first { $0["codec_type"] as? String == "video" })
            #expect(Int(video["nb_read_packets"] as! String)! >= 19 * 15 - 2, "every frame of 19 s at 15 fps")
            #expect(try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", out, "-f", "null", "-"]).output.isEmpty)
        }
    }
}
