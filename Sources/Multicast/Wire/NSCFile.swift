import NIOCore

/// A multicast information file (MS-MSB 2.2.1): the group to join in `[Address]` and every ASF
/// header the stream uses in `[Formats]`. Written as WMS does (MULTICAST.md §2): CRLF, the
/// properties in the ABNF's order (2.2.1.4), every string encoded, `NSC Format Version` first
/// among them because VLC opens nothing without it.
public struct NSCFile: Equatable, Sendable {
    /// "machine, point".
    public var name: String?
    public var formatVersion: String? = "3.0"
    /// The address the sender sends from; a receiver may drop datagrams from others (5.1).
    public var multicastAdapter: String?
    public var ipAddress: String
    public var ipPort: UInt16
    public var timeToLive: UInt32?
    /// The FEC span a receiver should expect at most (2.2.2).
    public var defaultECC: UInt32?
    /// Where a receiver POSTs its MS-WMLOG log.
    public var logURL: String?
    /// Where a receiver rolls over to when nothing arrives (3.2.3).
    public var unicastURL: String?
    public var formats: [Format]
    /// What a reader let pass, each naming its line: keys it does not use.
    public var warnings: [String] = []

    /// One ASF header: the Header Object and the first 50 bytes of the Data Object, under the
    /// 11-bit Format ID that an MSB packet's wStreamID carries (2.2.1.4, 2.2.4).
    public struct Format: Equatable, Sendable {
        public var id: UInt16
        public var header: [UInt8]
        public var description: String?

        public init(id: UInt16, header: [UInt8], description: String? = nil) {
            self.id = id
            self.header = header
            self.description = description
        }

        /// A streaming header under an 11-bit hash of its bytes (FNV-1a, folded), as 2.2.1.4
        /// suggests: the same header twice is one Format, and an entry change that brings a
        /// new header brings a new ID.
        public init(streamingHeader: ByteBuffer, description: String? = nil) {
            let bytes = Array(streamingHeader.readableBytesView)
            let hash = bytes.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 }
            self.init(id: UInt16((hash ^ hash >> 11 ^ hash >> 22) & 0x7FF), header: bytes, description: description)
        }
    }

    public init(ipAddress: String, ipPort: UInt16, formats: [Format]) {
        self.ipAddress = ipAddress
        self.ipPort = ipPort
        self.formats = formats
    }

    /// The file's text.
    public var text: String {
        var lines = ["[Address]"]
        func string(_ key: String, _ value: String?) { if let value { lines.append("\(key)=\(NSCEncodedBlock(string: value).encoded)") } }
        func integer(_ key: String, _ value: UInt32?) { if let value { lines.append("\(key)=\(Self.integerText(value))") } }
        string("Name", name)
        string("NSC Format Version", formatVersion)
        string("Multicast Adapter", multicastAdapter)
        string("IP Address", ipAddress)
        integer("IP Port", UInt32(ipPort))
        integer("Time To Live", timeToLive)
        integer("Default Ecc", defaultECC)
        string("Log URL", logURL)
        string("Unicast URL", unicastURL)
        lines.append("")
        lines.append("[Formats]")
        for (i, format) in formats.enumerated() {
            lines.append("Format\(i + 1)=\(NSCEncodedBlock(key: UInt32(format.id), data: format.header).encoded)")
            string("Description\(i + 1)", format.description)
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// `0x` and 8 hexadecimal digits (2.2.1.1).
    static func integerText(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
