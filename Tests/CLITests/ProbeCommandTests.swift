import Foundation
import Testing

/// Runs the built `asfcast` binary and ffprobe, and compares what they print.
struct ProbeCommandTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `asfcast` executable beside the test bundle (`swift build` puts it there).
    static var asfcast: String {
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("asfcast").path
    }

    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: stdout, stderr: String(decoding: stderr, as: UTF8.self))
    }

    static func json(_ data: Data) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test(arguments: ["demo.wmv", "audio.wma", "multibitrate.wmv", "noindex.wmv"])
    func probeAgreesWithFFprobe(name: String) throws {
        let path = Self.root.appendingPathComponent("Media/\(name)").path
        let ours = try Self.run(Self.asfcast, ["probe", "--json", path])
        #expect(ours.status == 0, "\(ours.stderr)")
        let report = try Self.json(ours.stdout)
        let ffprobe = try Self.run("/usr/bin/ffprobe", ["-v", "error", "-count_packets", "-show_streams", "-show_format", "-of", "json", path])
        #expect(ffprobe.status == 0)
        let theirs = try Self.json(ffprobe.stdout)

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

    @Test func probeTextNamesTheEssentials() throws {
        let out = try Self.run(Self.asfcast, ["probe", Self.root.appendingPathComponent("Media/multibitrate.wmv").path])
        let text = String(decoding: out.stdout, as: UTF8.self)
        #expect(out.status == 0)
        for needle in ["preroll 3100 ms", "× 3200 bytes", "seekable", "simple index", "#1  video, WMV2", "#4  audio, wmav2",
                       "exclusion   bitrate (bitrate object): 1 | 2 | 3"] {
            #expect(text.contains(needle), "\(needle)")
        }
    }

    @Test func malformedFileExitsNonZeroWithTheTypedError() throws {
        let out = try Self.run(Self.asfcast, ["probe", Self.root.appendingPathComponent("Makefile").path])
        #expect(out.status != 0)
        #expect(out.stderr.contains("Header Object at byte 0: unexpected GUID"))
    }
}
