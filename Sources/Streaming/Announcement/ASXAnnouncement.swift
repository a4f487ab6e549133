/// A point's `.asx` (Windows Media metafile, version 3.0): one Entry whose Ref elements a player
/// tries in order, taking the first it can play (the rollover). A unicast point lists itself over
/// mmsh and RTSP; a multicast point puts its `.nsc` first (MulticastAnnouncement).
public struct ASXAnnouncement: Sendable {
    public var title: String
    public var references: [String]

    public init(title: String, references: [String]) {
        self.title = title
        // A reference given twice is tried once.
        self.references = references.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
    }

    /// The unicast references of the point at `path` ("/live"): WMSP on `httpHost`, RTSP on
    /// `rtspHost` (each host[:port], as players reach it).
    public static func unicast(point: String, path: String, httpHost: String, rtspHost: String) -> ASXAnnouncement {
        let path = path.hasSuffix("/") && path != "/" ? String(path.dropLast()) : path
        return ASXAnnouncement(title: point, references: ["mmsh://\(httpHost)\(path)", "rtsp://\(rtspHost)\(path)"])
    }

    public static let contentType = "video/x-ms-asf"

    public var text: String {
        """
        <ASX version="3.0">
          <Title>\(Self.escaped(title))</Title>
          <Entry>
        \(references.map { "    <Ref href=\"\(Self.escaped($0))\"/>" }.joined(separator: "\n"))
          </Entry>
        </ASX>

        """
    }

    private static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
