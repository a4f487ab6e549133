import Foundation

/// A client's log submission (MS-WMLOG): W3C fields separated by single spaces, "-" for empty
/// (2.2), either on a `log-line` Pragma token or inside the `<Summary>` of an XML log (2.4).
public struct WMLog: Sendable, Equatable {
    /// The field names of the basic syntax, in order (2.2.1: 44 fields, 47 with the optional three).
    public static let basicFields = [
        "c-ip", "date", "time", "c-dns", "cs-uri-stem", "c-starttime", "x-duration", "c-rate", "c-status",
        "c-playerid", "c-playerversion", "c-playerlanguage", "cs-User-Agent", "cs-Referer", "c-hostexe",
        "c-hostexever", "c-os", "c-osversion", "c-cpu", "filelength", "filesize", "avgbandwidth", "protocol",
        "transport", "audiocodec", "videocodec", "c-channelURL", "sc-bytes", "c-bytes", "s-pkts-sent",
        "c-pkts-received", "c-pkts-lost-client", "c-pkts-lost-net", "c-pkts-lost-cont-net", "c-resendreqs",
        "c-pkts-recovered-ECC", "c-pkts-recovered-resent", "c-buffercount", "c-totalbuffertime", "c-quality",
        "s-ip", "s-dns", "s-totalclients", "s-cpu-util", "cs-url", "cs-media-name", "cs-media-role",
    ]

    /// The extended syntax of rendering logs (2.2.2): 52 fields.
    public static let extendedFields = Array(basicFields[0..<44]) + [
        "cs-user-name", "s-session-id", "s-content-path", "cs-url", "cs-media-name", "c-max-bandwidth",
        "cs-media-role", "s-proxied",
    ]

    /// Field values by name, in the submitted order.
    public var fields: [(name: String, value: String)]

    public static func == (a: WMLog, b: WMLog) -> Bool {
        a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.value) == b.fields.map(\.value)
    }

    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses a W3C line of 44, 47 or 52 fields.
    public init(w3c line: String) throws {
        let values = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let names: [String]
        switch values.count {
        case 44, 47: names = Array(Self.basicFields.prefix(values.count))
        case 52: names = Self.extendedFields
        default: throw Malformed(description: "\(values.count) fields; a log has 44, 47 or 52")
        }
        fields = Array(zip(names, values)).map { (name: $0.0, value: $0.1) }
    }

    /// Parses an XML log body: the W3C fields of its `<Summary>` element.
    public init(xml body: String) throws {
        guard let open = body.range(of: "<Summary>", options: .caseInsensitive),
              let close = body.range(of: "</Summary>", options: .caseInsensitive, range: open.upperBound..<body.endIndex) else {
            throw Malformed(description: "no <Summary> element")
        }
        try self.init(w3c: String(body[open.upperBound..<close.lowerBound]).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    public subscript(_ name: String) -> String? { fields.first { $0.name == name }?.value }

    /// The fields with the server's own knowledge put in: the client's real address (legacy logs
    /// carry 0.0.0.0, MS-WMLOG 2.5.1) and the server's.
    public func withServerFields(clientIP: String, serverIP: String) -> WMLog {
        var copy = self
        for i in copy.fields.indices {
            switch copy.fields[i].name {
            case "c-ip": copy.fields[i].value = clientIP
            case "s-ip" where copy.fields[i].value == "-" || copy.fields[i].value == "0.0.0.0": copy.fields[i].value = serverIP
            default: break
            }
        }
        return copy
    }

    /// The W3C line: values in order, spaces inside values as "_" (2.2).
    public var line: String {
        fields.map { $0.value.isEmpty ? "-" : $0.value.replacingOccurrences(of: " ", with: "_") }.joined(separator: " ")
    }
}
