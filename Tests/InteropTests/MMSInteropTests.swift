import Foundation
import Testing

extension Interop {
    /// MMS (MS-MMSP) played by ffmpeg over TCP and by VLC over TCP and UDP.
    @Suite
    struct MMSInteropTests {
        static let demo = WMSPInteropTests.demo

        /// ffmpeg reads the whole file and stops by itself at the Data Object's end, with the
        /// source's streams, duration and every frame.
        @Test func ffmpegReceivesTheWholeFileOverTCP() throws {
            let server = try ServerProcess()
            let out = temporaryFile("mmst.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let result = try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmst://\(server.mmsURL)/demo.wmv", "-c", "copy", "-f", "asf", out])
            #expect(result.status == 0 && result.output.isEmpty, "\(result.output)")
            let received = try probe(out)
            let source = try probe(Self.demo)
            #expect(abs(received.duration - source.duration) < 0.5, "\(received.duration) s of \(source.duration) s")
            #expect(try WMSPInteropTests.packets(out) == WMSPInteropTests.packets(Self.demo))
            #expect(try run("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-i", out, "-f", "null", "-"]).output.isEmpty)
        }

        /// VLC (access_mms) over TCP (mmst://) and over UDP (mmsu://, data to the port its
        /// ConnectFunnel names) receives the whole file.
        @Test(arguments: ["mmst", "mmsu"])
        func vlcReceivesTheWholeFile(scheme: String) throws {
            let server = try ServerProcess()
            try withVLCRecording("\(scheme)://\(server.mmsURL)/demo.wmv") { result, out in
                #expect(result.status == 0, "\(result.output)")
                try WMSPInteropTests.expectWholeFile(out)
            }
            #expect(server.logText.contains("over \(scheme == "mmsu" ? "UDP" : "TCP")"))
            #expect(server.logText.contains("end of stream after 220 packets"))
        }

        /// `--start-time 10`: VLC restarts play with StartPlaying at a packet number (locationId);
        /// what it records is the file from within 1 s of 10 s (counted in video frames).
        @Test func vlcStartsAtTenSeconds() throws {
            let server = try ServerProcess()
            try withVLCRecording("mmst://\(server.mmsURL)/demo.wmv", options: ["--start-time", "10"]) { result, out in
                #expect(result.status == 0, "\(result.output)")
                let source = try probe(Self.demo)
                let frames = try WMSPInteropTests.packets(Self.demo)["wmv2"]!
                let received = try WMSPInteropTests.packets(out)["wmv2"] ?? 0
                let start = source.duration * Double(frames - received) / Double(frames)
                #expect(abs(start - 10) < 1, "\(received) of \(frames) frames: started at \(start) s")
            }
            #expect(server.logText.contains("play /demo.wmv from byteOffset"))
        }

        /// The /live broadcast point over MMS: 20 ffmpeg clients at once, each at least 10 s of
        /// decodable content from a key frame.
        @Test func twentyFFmpegClientsPlayTheBroadcast() throws {
            let server = try ServerProcess()
            try BroadcastInteropTests.twentyClientsGetTenSeconds(of: "mmst://\(server.mmsURL)/live")
        }
    }
}
