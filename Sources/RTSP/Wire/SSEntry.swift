/// One entry of a SelectStream message body (MS-RTSP 2.2.7.10, media type
/// `application/x-wms-streamswitch`, 2.2.6.3.9): `SSEntry: OldStream NewStream ThinLevel
/// [OldStreamURI] [NewStreamURI]`. A stream number of 4,294,967,295 (no stream: one only added or
/// only removed) is nil here, and its URI is absent.
public struct SSEntry: Equatable, Sendable {
    public var oldStream: UInt32?
    public var newStream: UInt32?
    public var thinLevel: ThinLevel
    public var oldURI: String?
    public var newURI: String?

    /// What is sent of the new stream (2.2.7.10).
    public enum ThinLevel: UInt8, Sendable {
        case everything = 0
        case keyFramesOnly = 1
        case nothing = 2
    }

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    static let noStream = UInt32.max

    public init(oldStream: UInt32?, newStream: UInt32?, thinLevel: ThinLevel = .everything, oldURI: String? = nil, newURI: String? = nil) {
        self.oldStream = oldStream
        self.newStream = newStream
        self.thinLevel = thinLevel
        self.oldURI = oldURI
        self.newURI = newURI
    }

    /// The entries of a message body. The URIs are present exactly when their stream numbers
    /// are (2.2.7.10), which is how they are told apart from the next entry. The `SSEntry:` label
    /// is optional: the spec's own TEARDOWN examples (4.4.4.2) leave it out; lines may break
    /// anywhere between fields (4.4.4.1).
    public static func parse(_ body: String) throws -> [SSEntry] {
        var tokens = body.split(whereSeparator: \.isWhitespace)[...]
        var entries: [SSEntry] = []
        while let first = tokens.first {
            if first.lowercased() == "ssentry:" { tokens.removeFirst() }
            guard tokens.count >= 3, let old = UInt32(tokens.removeFirst()), let new = UInt32(tokens.removeFirst()),
                  let thin = UInt8(tokens.removeFirst()).flatMap(ThinLevel.init(rawValue:)) else {
                throw Malformed(description: "SSEntry needs OldStream NewStream ThinLevel (0-2): \(body)")
            }
            var entry = SSEntry(oldStream: old == noStream ? nil : old, newStream: new == noStream ? nil : new, thinLevel: thin)
            if entry.oldStream != nil { entry.oldURI = try uri(from: &tokens, body) }
            if entry.newStream != nil { entry.newURI = try uri(from: &tokens, body) }
            entries.append(entry)
        }
        guard !entries.isEmpty else { throw Malformed(description: "empty SelectStream body") }
        return entries
    }

    private static func uri(from tokens: inout ArraySlice<Substring>, _ body: String) throws -> String {
        guard let token = tokens.first, token.lowercased().hasPrefix("rtsp") else {
            throw Malformed(description: "SSEntry lacks a stream URI: \(body)")
        }
        tokens.removeFirst()
        return String(token)
    }

    /// The entry as a message body line.
    public var text: String {
        var fields = ["SSEntry:", "\(oldStream ?? Self.noStream)", "\(newStream ?? Self.noStream)", "\(thinLevel.rawValue)"]
        if oldStream != nil, let oldURI { fields.append(oldURI) }
        if newStream != nil, let newURI { fields.append(newURI) }
        return fields.joined(separator: " ") + "\r\n"
    }
}
