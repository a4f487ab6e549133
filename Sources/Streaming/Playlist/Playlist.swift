import ASF
import Foundation

/// A server-side playlist (`.wsx`): the SMIL subset Windows Media Services reads — `smil`,
/// `seq` (with `repeatCount`), and `media` with `src`, `clipBegin`, `clipEnd`, `repeatCount`.
public struct Playlist: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public var source: String
        /// Milliseconds.
        public var clipBegin: UInt64?
        public var clipEnd: UInt64?
    }

    /// In play order, repeats expanded.
    public var entries: [Entry]

    /// Most entries a playlist expands to; `repeatCount="indefinite"` repeats up to this.
    public static let maximumEntries = 10_000

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public init(parsing data: Data) throws {
        let root: PlaylistXML.Node
        do {
            root = try PlaylistXML.root(of: try Self.text(data))
        } catch let error as PlaylistXML.Malformed {
            throw Failure(description: "not a playlist: \(error.description) (line \(error.line))")
        }
        guard root.name.lowercased() == "smil" else { throw Failure(description: "the root element is \(root.name), not smil") }
        entries = []
        try expand(root, into: &entries)
    }

    /// The playlist's text: UTF-8, or UTF-16 with a byte-order mark (Notepad's "Unicode").
    static func text(_ data: Data) throws -> String {
        if data.starts(with: [0xFF, 0xFE]) || data.starts(with: [0xFE, 0xFF]) {
            guard let text = String(data: data, encoding: .utf16) else { throw Failure(description: "not UTF-16 text") }
            return text
        }
        guard let text = String(validating: data, as: UTF8.self) else { throw Failure(description: "not UTF-8 text") }
        return text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    }

    private func expand(_ node: PlaylistXML.Node, into out: inout [Entry]) throws {
        let repeats = try Self.repeatCount(node.attributes["repeatCount"])
        for _ in 0..<repeats {
            switch node.name.lowercased() {
            case "media", "ref", "audio", "video":
                guard let src = node.attributes["src"], !src.isEmpty else { throw Failure(description: "a \(node.name) without src") }
                let entry = Entry(source: src, clipBegin: try Self.clock(node.attributes["clipBegin"]),
                                  clipEnd: try Self.clock(node.attributes["clipEnd"]))
                guard out.count < Self.maximumEntries else { return }
                out.append(entry)
            default:
                for child in node.children { try expand(child, into: &out) }
            }
            if out.count >= Self.maximumEntries { return }
        }
    }

    static func repeatCount(_ value: String?) throws -> Int {
        guard let value else { return 1 }
        if value == "indefinite" { return maximumEntries }
        guard let n = Double(value), n >= 1 else { throw Failure(description: "bad repeatCount \(value)") }
        return n >= Double(maximumEntries) ? maximumEntries : Int(n)
    }

    /// SMIL clock values: `hh:mm:ss.fff`, `mm:ss`, or a number with `h`, `min`, `s` or `ms`
    /// (seconds without one).
    static func clock(_ value: String?) throws -> UInt64? {
        guard let raw = value?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        let bad = Failure(description: "bad clock value \(raw)")
        if raw.contains(":") {
            var seconds = 0.0
            for part in raw.split(separator: ":") {
                guard let v = Double(part), v >= 0 else { throw bad }
                seconds = seconds * 60 + v
            }
            guard let milliseconds = UInt64(milliseconds: seconds) else { throw bad }
            return milliseconds
        }
        for (suffix, scale) in [("ms", 1.0), ("min", 60_000.0), ("h", 3_600_000.0), ("s", 1000.0), ("", 1000.0)] where raw.hasSuffix(suffix) {
            guard let v = Double(raw.dropLast(suffix.count)), v >= 0, let milliseconds = UInt64(milliseconds: v * scale / 1000) else { continue }
            return milliseconds
        }
        throw bad
    }
}
