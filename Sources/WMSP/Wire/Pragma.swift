/// The tokens of a request's `Pragma` headers (MS-WMSP 2.2.1.4), parsed leniently: clients
/// differ from the spec (CLIENTS.md 1.2-1.4), so unknown tokens are kept and odd values tolerated.
public struct Pragma: Sendable, Equatable {
    /// Token name (lower-cased) to value ("" for a bare token). A later token wins.
    public private(set) var tokens: [String: String] = [:]

    public init(headerValues: [String]) {
        for var value in headerValues {
            // On the UTF-8 bytes: the delimiters are ASCII, and a request's Pragma values are
            // parsed for every session (as Characters, 6 % of the server's CPU in a ramp).
            value.withUTF8 { bytes in
                var start = 0
                var quoted = false
                for i in 0...bytes.count {
                    if i < bytes.count {
                        if bytes[i] == UInt8(ascii: "\"") { quoted.toggle() }
                        guard bytes[i] == UInt8(ascii: ","), !quoted else { continue }
                    }
                    add(token: bytes[start..<i])
                    start = i + 1
                }
            }
        }
    }

    /// `name`, `name=value` or `name="value"`, blanks around either ignored.
    private mutating func add(token: Slice<UnsafeBufferPointer<UInt8>>) {
        let equals = token.firstIndex(of: UInt8(ascii: "="))
        let name = Self.trimmed(token[..<(equals ?? token.endIndex)])
        guard !name.isEmpty else { return }
        var value = equals.map { Self.trimmed(token[($0 + 1)...]) } ?? token[token.endIndex...]
        if value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") { value = value.dropFirst().dropLast() }
        tokens[String(decoding: name, as: UTF8.self).lowercased()] = String(decoding: value, as: UTF8.self)
    }

    private static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        let blank = { (b: UInt8) in b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") }
        let start = bytes.firstIndex { !blank($0) } ?? bytes.endIndex
        let end = bytes.lastIndex { !blank($0) }.map { $0 + 1 } ?? start
        return bytes[start..<max(start, end)]
    }

    public subscript(_ name: String) -> String? { tokens[name.lowercased()] }

    /// Leading decimal digits of a token's value: ffmpeg glues the next header line onto
    /// `stream-time=0` (CLIENTS.md 1.2), so only the number prefix counts.
    public func number(_ name: String) -> UInt64? {
        guard let value = self[name] else { return nil }
        let digits = value.prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : UInt64(digits)
    }
}

/// One `stream-switch-entry` item (MS-WMSP 2.2.1.4.27): switch to `stream` with `thinning`
/// (0 all, 1 key frames only, 2 none).
public struct StreamSwitchEntry: Sendable, Equatable {
    public var stream: UInt16
    public var thinning: UInt8

    /// Parses `ffff:1:0 ffff:2:0 `. Stream numbers are hexadecimal per the spec, but ffmpeg and
    /// libmms (NSPlayer/4.1) print them in decimal (CLIENTS.md 1.2): `decimal` picks the reading.
    public static func parse(_ value: String, decimal: Bool) -> [StreamSwitchEntry]? {
        var entries = [StreamSwitchEntry]()
        for item in value.split(separator: " ") where !item.isEmpty {
            let fields = item.split(separator: ":")
            guard fields.count == 3, let stream = UInt16(fields[1], radix: decimal ? 10 : 16),
                  let thinning = UInt8(fields[2]), thinning <= 2 else { return nil }
            entries.append(StreamSwitchEntry(stream: stream, thinning: thinning))
        }
        return entries
    }

    /// The Pragma values of a request for `selection` (nil: all) among `available`: its
    /// stream-switch-count and stream-switch-entry (hexadecimal, other streams thinned to none).
    public static func pragmas(selecting selection: Set<UInt16>?, of available: [UInt16]) -> [String] {
        let entries = available.map { "ffff:\(String($0, radix: 16)):\(selection?.contains($0) ?? true ? 0 : 2)" }
        return ["stream-switch-count=\(available.count)", "stream-switch-entry=\(entries.joined(separator: " "))"]
    }

    /// The streams a request selects among `available`: entries with thinning 0 or 1. The hex
    /// reading is tried first unless the client is known to print decimal; the other reading is
    /// used when the first names streams the content does not have.
    public static func selection(_ value: String, available: Set<UInt8>, decimalFirst: Bool) -> Set<UInt8>? {
        for decimal in [decimalFirst, !decimalFirst] {
            guard let entries = parse(value, decimal: decimal) else { continue }
            let named = Set(entries.map(\.stream))
            guard named.allSatisfy({ $0 <= 127 && available.contains(UInt8($0)) }) else { continue }
            return Set(entries.filter { $0.thinning < 2 }.map { UInt8($0.stream) })
        }
        return nil
    }
}
