/// The XML of a `.wsx` playlist, read into an element tree: elements with their attributes;
/// text, comments, processing instructions, declarations and CDATA passed over. A small reader of
/// its own because Foundation's XMLParser stops the process on some malformed input (invalid
/// UTF-8 in a comment, a processing instruction without data: found by fuzzing), and a playlist
/// file must never do that. Well-formedness is checked as far as the tree needs: end tags match,
/// attributes are quoted, one root element.
struct PlaylistXML {
    final class Node {
        let name: String
        let attributes: [String: String]
        var children: [Node] = []

        init(name: String, attributes: [String: String]) {
            self.name = name
            self.attributes = attributes
        }
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
        var line: Int
    }

    static let maximumDepth = 32

    private let bytes: [UInt8]
    private var i = 0

    /// The root element of `text`.
    static func root(of text: String) throws -> Node {
        var reader = PlaylistXML(bytes: Array(text.utf8))
        return try reader.document()
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func fail(_ description: String) -> Malformed {
        Malformed(description: description, line: 1 + bytes[..<min(i, bytes.count)].lazy.filter { $0 == 0x0A }.count)
    }

    private mutating func document() throws -> Node {
        var root: Node?
        var stack: [Node] = []
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "<") else {
                // Text: only blanks outside the root element.
                if stack.isEmpty, !Self.isBlank(bytes[i]) { throw fail("text outside the root element") }
                i += 1
                continue
            }
            if try skipMarkup() { continue }
            if peek("</") {
                i += 2
                let name = try self.name()
                skipBlanks()
                try expect(">")
                guard let open = stack.popLast(), open.name == name else { throw fail("</\(name)> closes no open element") }
                continue
            }
            i += 1
            let name = try self.name()
            var attributes: [String: String] = [:]
            while true {
                skipBlanks()
                if peek("/>") || peek(">") { break }
                let key = try self.name()
                skipBlanks()
                try expect("=")
                skipBlanks()
                attributes[key] = try quoted()
            }
            let empty = peek("/>")
            i += empty ? 2 : 1
            let node = Node(name: name, attributes: attributes)
            if let parent = stack.last {
                parent.children.append(node)
            } else {
                guard root == nil else { throw fail("a second root element <\(name)>") }
                root = node
            }
            if !empty {
                stack.append(node)
                guard stack.count <= Self.maximumDepth else { throw fail("nested too deeply") }
            }
        }
        guard stack.isEmpty else { throw fail("<\(stack.last!.name)> is not closed") }
        guard let root else { throw fail("no element") }
        return root
    }

    /// Comments, processing instructions (the XML declaration among them), CDATA and
    /// declarations such as DOCTYPE: passed over. False when `<` starts none of them.
    private mutating func skipMarkup() throws -> Bool {
        for (open, close) in [("<!--", "-->"), ("<?", "?>"), ("<![CDATA[", "]]>"), ("<!", ">")] where peek(open) {
            i += open.utf8.count
            while i < bytes.count, !peek(close) { i += 1 }
            guard i < bytes.count else { throw fail("\(open) is not closed") }
            i += close.utf8.count
            return true
        }
        return false
    }

    private mutating func name() throws -> String {
        let start = i
        while i < bytes.count, !Self.isBlank(bytes[i]), !"<>/=\"'".utf8.contains(bytes[i]) { i += 1 }
        guard i > start else { throw fail("a name was expected") }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// `"…"` or `'…'`, entities decoded.
    private mutating func quoted() throws -> String {
        guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") else { throw fail("an attribute value must be quoted") }
        let quote = bytes[i]
        i += 1
        let start = i
        while i < bytes.count, bytes[i] != quote {
            guard bytes[i] != UInt8(ascii: "<") else { throw fail("< in an attribute value") }
            i += 1
        }
        guard i < bytes.count else { throw fail("an attribute value is not closed") }
        defer { i += 1 }
        return try Self.decodeEntities(String(decoding: bytes[start..<i], as: UTF8.self), fail: fail)
    }

    /// The five predefined entities and character references (XML 1.0 4.1, 4.6).
    private static func decodeEntities(_ text: String, fail: (String) -> Malformed) throws -> String {
        guard text.contains("&") else { return text }
        var out = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semicolon = rest[amp...].firstIndex(of: ";") else { throw fail("an entity without ;") }
            let entity = rest[rest.index(after: amp)..<semicolon]
            switch entity {
            case "amp": out += "&"
            case "lt": out += "<"
            case "gt": out += ">"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let hex = entity.hasPrefix("#x") || entity.hasPrefix("#X")
                guard entity.hasPrefix("#"), let code = UInt32(entity.dropFirst(hex ? 2 : 1), radix: hex ? 16 : 10),
                      let scalar = Unicode.Scalar(code) else { throw fail("unknown entity &\(entity);") }
                out.unicodeScalars.append(scalar)
            }
            rest = rest[rest.index(after: semicolon)...]
        }
        return out + rest
    }

    private func peek(_ text: String) -> Bool {
        let t = Array(text.utf8)
        return i + t.count <= bytes.count && bytes[i..<(i + t.count)].elementsEqual(t)
    }

    private mutating func expect(_ text: String) throws {
        guard peek(text) else { throw fail("\(text) was expected") }
        i += text.utf8.count
    }

    private mutating func skipBlanks() {
        while i < bytes.count, Self.isBlank(bytes[i]) { i += 1 }
    }

    private static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
}
