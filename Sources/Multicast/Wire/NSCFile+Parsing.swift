import Foundation

extension NSCFile {
    /// A line longer than this is refused: a Format line is about 1.33 × its header, and an
    /// ASF header an MSB packet can name stays far below 3 MB.
    public static let maximumLineLength = 4 << 20

    /// Reads a `.nsc` as the players do: keys case-insensitive, values plain or encoded (VLC
    /// takes both, 2.2.1.2), LF, CR or CRLF. Keys written by other WMS versions (Windows 2000's
    /// `Player URL`, `Channel Version`…, <4>) and unknown keys are kept as warnings, each
    /// naming its line; anything else wrong is an error naming its line.
    public init(parsing text: String) throws(NSCParseError) {
        var address: [String: (line: Int, value: Substring)] = [:]
        var formats: [Int: (line: Int, block: NSCEncodedBlock)] = [:]
        var descriptions: [Int: String] = [:]
        var warnings: [String] = []
        var section: Substring?
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let number = index + 1
            guard raw.utf8.count <= Self.maximumLineLength else { throw NSCParseError(line: number, reason: "longer than \(Self.maximumLineLength) bytes") }
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw NSCParseError(line: number, reason: "a section name without its ]") }
                section = line.dropFirst().dropLast()
                continue
            }
            guard let equals = line.firstIndex(of: "=") else { throw NSCParseError(line: number, reason: "no \"=\" between a name and a value") }
            let key = line[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            let value = Substring(line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces))
            switch section?.lowercased() {
            case "address":
                if Self.addressKeys.contains(key) {
                    address[key] = (number, value)
                } else if !Self.olderAddressKeys.contains(key) {
                    warnings.append("line \(number): unknown key \"\(line[..<equals])\" ignored")
                }
            case "formats":
                if let n = Self.index(key, after: "format") {
                    do throws(NSCFormatError) {
                        formats[n] = (number, try NSCEncodedBlock(decoding: value))
                    } catch {
                        throw NSCParseError(line: number, reason: "Format\(n): \(error)")
                    }
                } else if let n = Self.index(key, after: "description") {
                    descriptions[n] = try Self.string(value, line: number)
                } else {
                    warnings.append("line \(number): unknown key \"\(line[..<equals])\" ignored")
                }
            default:
                throw NSCParseError(line: number, reason: "\"\(line[..<equals])\" outside [Address] and [Formats]")
            }
        }
        func string(_ key: String) throws(NSCParseError) -> String? {
            guard let (line, value) = address[key] else { return nil }
            let text = try Self.string(value, line: line)
            return text.isEmpty ? nil : text
        }
        func integer(_ key: String) throws(NSCParseError) -> UInt32? {
            guard let (line, value) = address[key] else { return nil }
            let digits = value.lowercased().hasPrefix("0x") ? value.dropFirst(2) : ""
            guard (1...8).contains(digits.count), let parsed = UInt32(digits, radix: 16) else {
                throw NSCParseError(line: line, reason: "\(key): \(NSCFormatError.notAnInteger)")
            }
            return parsed
        }
        guard let ip = try string("ip address") else { throw NSCParseError(line: nil, reason: "no IP Address in [Address]") }
        guard let port = try integer("ip port") else { throw NSCParseError(line: nil, reason: "no IP Port in [Address]") }
        guard let port16 = UInt16(exactly: port), port16 != 0 else { throw NSCParseError(line: address["ip port"]?.line, reason: "IP Port \(port) is not a UDP port") }
        var ids = Set<UInt16>()
        var parsed: [Format] = []
        for (n, (line, block)) in formats.sorted(by: { $0.key < $1.key }) {
            guard block.key <= 0x7FF else { throw NSCParseError(line: line, reason: "Format\(n): Key \(block.key) is not an 11-bit Format ID") }
            guard ids.insert(UInt16(block.key)).inserted else { throw NSCParseError(line: line, reason: "Format\(n): Format ID \(block.key) given twice") }
            parsed.append(Format(id: UInt16(block.key), header: block.data, description: descriptions[n]))
        }
        self.init(ipAddress: ip, ipPort: port16, formats: parsed)
        name = try string("name")
        formatVersion = try string("nsc format version")
        multicastAdapter = try string("multicast adapter")
        timeToLive = try integer("time to live")
        defaultECC = try integer("default ecc")
        logURL = try string("log url")
        unicastURL = try string("unicast url")
        self.warnings = warnings
    }

    static let addressKeys: Set<String> = ["name", "nsc format version", "multicast adapter", "ip address", "ip port", "time to live",
                                           "default ecc", "log url", "unicast url"]
    /// Written by Windows 2000 (<4>) or optional in 2.2.1.4, and of no use to a receiver.
    static let olderAddressKeys: Set<String> = ["player url", "player version", "distribution limit", "channel version", "delivery mode",
                                                "nsc url", "allow splitting", "allow caching", "cache expiration time", "network buffer time"]

    /// N in "formatN", "descriptionN".
    static func index(_ key: String, after prefix: String) -> Int? {
        guard key.hasPrefix(prefix) else { return nil }
        return Int(key.dropFirst(prefix.count)).flatMap { $0 > 0 ? $0 : nil }
    }

    /// A string value, encoded or plain.
    static func string(_ value: Substring, line: Int) throws(NSCParseError) -> String {
        guard value.hasPrefix("02") else { return String(value) }
        do throws(NSCFormatError) {
            return try NSCEncodedBlock(decoding: value).string()
        } catch {
            throw NSCParseError(line: line, reason: "\(error)")
        }
    }
}

/// Why a `.nsc` was refused, and on which line.
public struct NSCParseError: Error, CustomStringConvertible, Equatable {
    public var line: Int?
    public var reason: String

    public init(line: Int?, reason: String) {
        self.line = line
        self.reason = reason
    }

    public var description: String { line.map { "line \($0): \(reason)" } ?? reason }
}
