import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

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
        let reader = Reader()
        let parser = XMLParser(data: try Self.utf8(data))
        parser.delegate = reader
        guard parser.parse(), let root = reader.root else {
            throw Failure(description: "not a playlist: \(reader.failure ?? parser.parserError.map { "\($0)" } ?? "no smil element") (line \(parser.lineNumber))")
        }
        guard root.name.lowercased() == "smil" else { throw Failure(description: "the root element is \(root.name), not smil") }
        entries = []
        try expand(root, into: &entries)
    }

    /// The playlist as UTF-8: as it is, or from UTF-16 with a byte-order mark (Notepad's
    /// "Unicode"). Other bytes are refused here: Foundation's XMLParser traps on invalid UTF-8
    /// in a comment (found by fuzzing), which would stop the server.
    static func utf8(_ data: Data) throws -> Data {
        if data.starts(with: [0xFF, 0xFE]) || data.starts(with: [0xFE, 0xFF]) {
            guard let text = String(data: data, encoding: .utf16) else { throw Failure(description: "not UTF-16 text") }
            let declaration = text.range(of: #"encoding\s*=\s*["'][^"']*["']"#, options: .regularExpression)
            return Data(declaration.map { text.replacingCharacters(in: $0, with: #"encoding="UTF-8""#) }?.utf8 ?? text.utf8)
        }
        guard String(validating: data, as: UTF8.self) != nil else { throw Failure(description: "not UTF-8 text") }
        return data
    }

    private func expand(_ node: Reader.Node, into out: inout [Entry]) throws {
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
        return min(Int(n), maximumEntries)
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
            return UInt64(seconds * 1000)
        }
        for (suffix, scale) in [("ms", 1.0), ("min", 60_000.0), ("h", 3_600_000.0), ("s", 1000.0), ("", 1000.0)] where raw.hasSuffix(suffix) {
            guard let v = Double(raw.dropLast(suffix.count)), v >= 0 else { continue }
            return UInt64(v * scale)
        }
        throw bad
    }

    /// Builds the element tree.
    private final class Reader: NSObject, XMLParserDelegate {
        final class Node {
            let name: String
            let attributes: [String: String]
            var children: [Node] = []
            init(name: String, attributes: [String: String]) {
                self.name = name
                self.attributes = attributes
            }
        }

        var root: Node?
        var stack: [Node] = []
        var failure: String?

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            let node = Node(name: name, attributes: attributes)
            if let parent = stack.last { parent.children.append(node) } else if root == nil { root = node }
            stack.append(node)
            if stack.count > 32 {
                failure = "nested too deeply"
                parser.abortParsing()
            }
        }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
        }
    }
}
