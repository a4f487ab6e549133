import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

extension Interop {
    /// Issue 16: an edge server's point pulls another Asfcast's point over WMSP (NSServer), as a
    /// WMS distribution server relays its origin, and serves ffmpeg.
    @Suite
    struct RelayInteropTests {
        static func edge(of origin: ServerProcess) throws -> ServerProcess {
            try ServerProcess(config: "points:\n  - name: relay\n    path: /relay\n    broadcast: http://\(origin.url)/live\n")
        }

        @Test func anEdgeRelaysItsOriginToFFmpegOverEveryEngine() throws {
            let origin = try ServerProcess()
            let edge = try Self.edge(of: origin)
            try PushInteropTests.waitForLog(edge, "pulling 2 streams")
            let players: [(String, [String])] = [
                ("mmsh", ["-i", "mmsh://\(edge.url)/relay"]),
                ("rtsp-tcp", ["-rtsp_transport", "tcp", "-i", "rtsp://\(edge.rtspURL)/relay"]),
                ("mmst", ["-i", "mmst://\(edge.mmsURL)/relay"]),
            ]
            try PushInteropTests.expectEachPlayed(try PushInteropTests.startRecordings(players), " of the edge")
        }

        /// The origin stops and starts again: the edge connects again and its player goes on,
        /// seeing a pause of the length of the outage and then the origin's stream again, on one
        /// clock.
        @Test func anEdgesPlayersGoOnWhenTheOriginComesBack() throws {
            var origin: ServerProcess? = try ServerProcess()
            let ports = (origin!.port, origin!.rtspPort, origin!.mmsPort)
            let edge = try Self.edge(of: origin!)
            try PushInteropTests.waitForLog(edge, "pulling 2 streams")
            let out = temporaryFile("outage.asf")
            defer { try? FileManager.default.removeItem(atPath: out) }
            let player = try ClientRun("/usr/bin/ffmpeg", ["-nostdin", "-v", "error", "-y", "-i", "mmsh://\(edge.url)/relay", "-t", "16",
                                                           "-c", "copy", "-f", "asf", out])
            try PushInteropTests.waitForLog(edge, "play broadcast relay")
            kill(origin!.process.processIdentifier, SIGKILL)
            origin!.process.waitUntilExit()
            try PushInteropTests.waitForLog(edge, "connecting again")
            origin = try ServerProcess(ports: ports)
            try PushInteropTests.waitForLog(edge, "origin back")
            let result = try player.finish()
            #expect(result.status == 0, "\(result.output)")
            try PushInteropTests.expectPlayable(out, seconds: 15, "the edge's player across the outage")
        }
    }
}
