import ASF
import ArgumentParser
import Foundation

struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the structure of an ASF file.")

    @Argument(help: "The ASF file (.asf, .wmv, .wma).")
    var file: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let report: FileReport
        do {
            report = try FileReport(ASFFile(path: file))
        } catch let error as ASFError {
            FileHandle.standardError.write(Data("asfcast probe: \(file): \(error)\n".utf8))
            throw ExitCode(2)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.text(report), terminator: "")
        }
        for departure in report.departures {
            FileHandle.standardError.write(Data("asfcast probe: warning: \(departure)\n".utf8))
        }
    }

    static func text(_ r: FileReport) -> String {
        var out = "\(r.file)\n"
        if let title = r.title { out += "  title       \(title)\n" }
        out += "  duration    \(seconds(r.durationMilliseconds)) s (preroll \(r.prerollMilliseconds) ms)\n"
        out += "  packets     \(r.packetCount) × \(r.packetSize) bytes (declared \(r.declaredPacketCount))\n"
        out += "  bit rate    \(r.maximumBitrate / 1000) kbit/s maximum\n"
        var flags = [String]()
        if r.broadcast { flags.append("broadcast") }
        if r.seekable { flags.append("seekable") }
        out += "  flags       \(flags.isEmpty ? "none" : flags.joined(separator: ", "))\n"
        let index = r.simpleIndexEntries.map { "simple index, \($0) entries" } ?? "no simple index"
        out += "  index       \(index)\(r.hasIndexObject ? ", index object" : "")\n"
        out += "  streams\n"
        for s in r.streams {
            var detail = [s.type, s.codec]
            if let b = s.bitrate { detail.append("\(b / 1000) kbit/s") }
            if let w = s.width, let h = s.height { detail.append("\(w)x\(h)") }
            if let c = s.channels, let rate = s.sampleRate { detail.append("\(c) ch \(rate) Hz") }
            if let l = s.language { detail.append("language \(l)") }
            if s.encrypted { detail.append("encrypted") }
            out += "    #\(s.number)  \(detail.joined(separator: ", "))\n"
            out += "         \(s.packets) packets, \(s.payloads) payloads, \(s.mediaObjects) objects, \(s.keyFrames) key, \(s.bytes) bytes\n"
        }
        for e in r.exclusions {
            let streams = e.streams.map { $0.map(String.init).joined(separator: "+") }.joined(separator: " | ")
            out += "  exclusion   \(e.type) (\(e.object) object): \(streams)\n"
        }
        return out
    }

    static func seconds(_ ms: UInt64) -> String {
        String(format: "%.3f", Double(ms) / 1000)
    }
}
