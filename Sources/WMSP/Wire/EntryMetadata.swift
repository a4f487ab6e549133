import ASF
import NIOCore

/// What a $M packet says of the playlist entry that follows it (MS-WMSP 2.2.3.6): its id, its
/// live source, its features, and a Content Description List (2.2.4) in one language.
public struct EntryMetadata: Sendable, Equatable {
    /// A name-value pair of the list, sent as a wide-character string (VT_LPWSTR, 2.2.4.1).
    public struct Item: Sendable, Equatable {
        public var name: String
        public var value: String

        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Playlist-gen-id (2.2.1.4.18): differs for every entry of a session.
    public var playlistGenID: UInt32
    /// The live source within the playlist; 0 for content that is not live.
    public var broadcastID: UInt32
    /// The entry's `features` value (2.2.1.4.8), without quotes.
    public var features: String
    /// The content description's language tag; empty when unknown.
    public var language: String
    public var items: [Item]

    /// VT_LPWSTR, the value type of every item sent (2.2.4.1).
    static let wideString = 31

    public init(playlistGenID: UInt32, broadcastID: UInt32, features: String, language: String = "", items: [Item] = []) {
        self.playlistGenID = playlistGenID
        self.broadcastID = broadcastID
        self.features = features
        self.language = language
        self.items = items
    }

    /// The metadata of an entry whose ASF header is `header`: the Content Description Object's
    /// fields that are set, in the language of its first stream.
    public init(header: ASFHeader, playlistGenID: UInt32, broadcastID: UInt32, features: String) {
        var items: [Item] = []
        if let d = header.contentDescription {
            for (name, value) in [("title", d.title), ("author", d.author), ("copyright", d.copyright),
                                  ("description", d.summary), ("rating", d.rating)] where !value.isEmpty {
                items.append(Item(name, value))
            }
        }
        let language = header.streams.first.flatMap { header.language(of: $0.streamNumber) } ?? ""
        self.init(playlistGenID: playlistGenID, broadcastID: broadcastID, features: features, language: language, items: items)
    }

    /// Metadata-Payload (2.2.3.6): the tokens, a NUL, then the list, whose every pair is
    /// `length,name,type,length,value` (2.2.4), led by the language and ended by CRLF. Lengths
    /// count bytes, as 2.2.4 defines them; its ABNF's literal "7,language" miscounts.
    public func payload(allocator: ByteBufferAllocator) -> ByteBuffer {
        var text = "playlist-gen-id=\(playlistGenID), broadcast-id=\(broadcastID), features=\"\(features)\"\0"
        let pairs = [Item("language", language)] + items
        text += pairs.map { "\($0.name.utf8.count),\($0.name),\(Self.wideString),\($0.value.utf8.count),\($0.value)" }
            .joined(separator: ",")
        text += "\r\n"
        var b = allocator.buffer(capacity: text.utf8.count)
        b.writeString(text)
        return b
    }

    /// Reads a $M payload (reassembled from its pieces).
    public init(payload: ByteBuffer) throws {
        let bytes = Array(payload.readableBytesView)
        guard let nul = bytes.firstIndex(of: 0) else { throw Malformed(description: "no NUL after the tokens") }
        let tokens = Pragma(headerValues: [String(decoding: bytes[..<nul], as: UTF8.self)])
        guard let id = tokens.number("playlist-gen-id").flatMap(UInt32.init(exactly:)),
              let broadcast = tokens.number("broadcast-id").flatMap(UInt32.init(exactly:)),
              let features = tokens["features"] else {
            throw Malformed(description: "missing playlist-gen-id, broadcast-id or features")
        }
        var list = CDLReader(bytes: bytes[(nul + 1)...])
        var pairs: [Item] = []
        while let pair = try list.next() { pairs.append(pair) }
        guard let first = pairs.first, first.name == "language" else { throw Malformed(description: "the list does not start with language") }
        self.init(playlistGenID: id, broadcastID: broadcast, features: features, language: first.value,
                  items: Array(pairs.dropFirst()))
    }
}

/// Reads the name-value pairs of one content description (2.2.4), up to its CRLF.
private struct CDLReader {
    var bytes: ArraySlice<UInt8>

    mutating func next() throws -> EntryMetadata.Item? {
        guard !bytes.isEmpty, !bytes.starts(with: [0x0D, 0x0A]) else { return nil }
        let name = try counted()
        _ = try field()
        let value = try counted()
        return EntryMetadata.Item(name, value)
    }

    /// `length,text`: the text of that many bytes.
    private mutating func counted() throws -> String {
        guard let length = Int(try field()), (0...bytes.count).contains(length) else { throw EntryMetadata.Malformed(description: "bad length in the list") }
        let text = String(decoding: bytes.prefix(length), as: UTF8.self)
        bytes.removeFirst(length)
        if bytes.first == 0x2C { bytes.removeFirst() }
        return text
    }

    /// The text up to the next comma, which is consumed.
    private mutating func field() throws -> String {
        guard let comma = bytes.firstIndex(of: 0x2C) else { throw EntryMetadata.Malformed(description: "truncated list") }
        let text = String(decoding: bytes[..<comma], as: UTF8.self)
        bytes = bytes[(comma + 1)...]
        return text
    }
}
