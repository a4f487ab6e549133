import Foundation
import Testing

extension Interop {
    /// Runs the built `asfcast` binary and ffprobe, and compares what they print.
    @Suite
    struct ProbeCommandTests {
        static var root: URL { ServerProcess.root }

        static func json(_ text: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }

        @Test(arguments: ["demo.wmv", "audio.wma", "multibitrate.wmv", "noindex.wmv"])
        func probeAgreesWithFFprobe(name: String) throws {
            let path = Self.root.appendingPathComponent("Media/\(name)").path
            let ours = try run(ServerProcess.asfcast, ["probe", "--json", path])
            #expect(ours.status == 0, "\(ours.output)")
            let report = try Self.json(ours.output)
            let ffprobe = try run("/usr/bin/ffprobe", ["-v", "error", "-count_packets", "-show_streams", "-show_format", "-of", "json", path])
            #expect(ffprobe.status == 0)
            let theirs = try Self.json(ffprobe.output)

            let streams = try #require(report["streams"] as? [[String: Any]])
            let theirStreams = try #require(theirs["streams"] as? [[String: Any]])
            #expect(streams.count == theirStreams.count)
            for (mine, their) in zip(streams, theirStreams) {
                #expect(mine["type"] as? String == their["codec_type"] as? String)
                let tag = UInt32((their["codec_tag"] as! String).dropFirst(2), radix: 16)
                #expect((mine["codecTag"] as? NSNumber)?.uint32Value == tag)
                #expect((mine["mediaObjects"] as? Int) == Int(their["nb_read_packets"] as! String))
            }
            let duration = Double((theirs["format"] as! [String: Any])["duration"] as! String)!
            let ms = try #require(report["durationMilliseconds"] as? Double)
            #expect(abs(duration - ms / 1000) < 0.1)
        }

        /// `asfcast --version`: the version alone, for packagers and bug reports.
        @Test func versionPrintsTheVersion() throws {
            let printed = try run(ServerProcess.asfcast, ["--version"])
            #expect(printed.status == 0)
            #expect(printed.output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ".").map { Int($0) != nil } == [true, true, true],
                    "\(printed.output)")
        }

        @Test func probeTextNamesTheEssentials() throws {
            let out = try run(ServerProcess.asfcast, ["probe", Self.root.appendingPathComponent("Media/multibitrate.wmv").path])
            let text = out.output
            #expect(out.status == 0)
            for needle in ["preroll 3100 ms", "× 3200 bytes", "seekable", "simple index", "#1  video, WMV2", "#4  audio, wmav2",
                           "exclusion   bitrate (bitrate object): 1 | 2 | 3"] {
                #expect(text.contains(needle), "\(needle)")
            }
        }

        @Test func malformedFileExitsNonZeroWithTheTypedError() throws {
            let out = try run(ServerProcess.asfcast, ["probe", Self.root.appendingPathComponent("Makefile").path])
            #expect(out.status != 0)
            #expect(out.output.contains("Header Object at byte 0: unexpected GUID"))
        }
    }
}
