/// The tokens of a request's `Pragma` headers (MS-WMSP 2.2.1.4), parsed leniently: clients
/// differ from the spec (CLIENTS.md 1.2-1.4), so unknown tokens are kept and odd values tolerated.
public struct Pragma: Sendable, Equatable {
    /// Token name (lower-cased) to value ("" for a bare token). A later token wins.
    public private(set) var tokens: [String: String] = [:]

    public init(headerValues: [String]) {
        for value in headerValues {
            for token in Self.split(value) {
                let parts = token.split(separator: "=", maxSplits: 1)
                guard let name = parts.first?.trimmingCharacters(in: " \t") , !name.isEmpty else { continue }
                var v = parts.count > 1 ? String(parts[1]).trimmingCharacters(in: " \t") : ""
                if v.hasPrefix("\""), v.hasSuffix("\""), v.count >= 2 { v = String(v.dropFirst().dropLast()) }
                tokens[name.lowercased()] = v
            }
        }
    }

    public subscript(_ name: String) -> String? { tokens[name.lowercased()] }

    /// Leading decimal digits of a token's value: ffmpeg glues the next header line onto
    /// `stream-time=0` (CLIENTS.md 1.2), so only the number prefix counts.
    public func number(_ name: String) -> UInt64? {
        guard let value = self[name] else { return nil }
        let digits = value.prefix { $0.isASCII && $0.isNumber }
        return digits.isEmpty ? nil : UInt64(digits)
    }

    /// Splits on commas outside double quotes.
    private static func split(_ value: String) -> [Substring] {
        var result = [Substring]()
        var start = value.startIndex
        var quoted = false
        var i = value.startIndex
        while i < value.endIndex {
            let c = value[i]
            if c == "\"" { quoted.toggle() }
            if c == ",", !quoted {
                result.append(value[start..<i])
                start = value.index(after: i)
            }
            i = value.index(after: i)
        }
        result.append(value[start..<value.endIndex])
        return result
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        var s = Substring(self)
        while let f = s.first, set.contains(f) { s = s.dropFirst() }
        while let l = s.last, set.contains(l) { s = s.dropLast() }
        return String(s)
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
