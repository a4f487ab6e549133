import NIOCore

/// A 16-byte GUID as ASF stores it: Data1 (u32), Data2 and Data3 (u16) little-endian, then 8 bytes as-is.
public struct GUID: Hashable, Sendable, CustomStringConvertible {
    public var bytes: (UInt64, UInt64)

    /// Parses the canonical text form `XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`.
    public init(_ text: StaticString) {
        self.init(parsing: text.description)!
    }

    public init?(parsing text: String) {
        let hex = text.filter { $0 != "-" && $0 != "{" && $0 != "}" }
        guard hex.count == 32 else { return nil }
        var raw = [UInt8]()
        raw.reserveCapacity(16)
        var index = hex.startIndex
        for _ in 0..<16 {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            raw.append(byte)
            index = next
        }
        // Text is big-endian per field; the wire stores the first three fields little-endian.
        let wire = [raw[3], raw[2], raw[1], raw[0], raw[5], raw[4], raw[7], raw[6]] + raw[8...]
        self.init(wireBytes: wire)
    }

    public init<C: Collection>(wireBytes: C) where C.Element == UInt8 {
        precondition(wireBytes.count == 16)
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (i, byte) in wireBytes.enumerated() {
            if i < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        bytes = (high, low)
    }

    public var wireBytes: [UInt8] {
        (0..<16).map { i in
            let word = i < 8 ? bytes.0 : bytes.1
            return UInt8(truncatingIfNeeded: word >> (8 * (7 - UInt64(i % 8))))
        }
    }

    public static func == (a: GUID, b: GUID) -> Bool { a.bytes == b.bytes }
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.0)
        hasher.combine(bytes.1)
    }

    public var description: String {
        let w = wireBytes
        func hex(_ range: [Int]) -> String {
            range.map { w[$0] < 16 ? "0" + String(w[$0], radix: 16) : String(w[$0], radix: 16) }.joined()
        }
        return [hex([3, 2, 1, 0]), hex([5, 4]), hex([7, 6]), hex([8, 9]), hex(Array(10..<16))]
            .joined(separator: "-").uppercased()
    }
}

extension ByteBuffer {
    @discardableResult
    public mutating func writeGUID(_ guid: GUID) -> Int {
        writeInteger(guid.bytes.0, endianness: .big) + writeInteger(guid.bytes.1, endianness: .big)
    }
}

/// The GUIDs of the ASF specification (revision 01.20.05) that a streaming server meets.
public extension GUID {
    // Top-level objects (ASF spec 3, 5, 6)
    static let header = GUID("75B22630-668E-11CF-A6D9-00AA0062CE6C")
    static let data = GUID("75B22636-668E-11CF-A6D9-00AA0062CE6C")
    static let simpleIndex = GUID("33000890-E5B1-11CF-89F4-00A0C90349CB")
    static let index = GUID("D6E229D3-35DA-11D1-9034-00A0C90349BE")

    // Header objects (ASF spec 3.2-3.18)
    static let fileProperties = GUID("8CABDCA1-A947-11CF-8EE4-00C00C205365")
    static let streamProperties = GUID("B7DC0791-A9B7-11CF-8EE6-00C00C205365")
    static let headerExtension = GUID("5FBF03B5-A92E-11CF-8EE3-00C00C205365")
    static let codecList = GUID("86D15240-311D-11D0-A3A4-00A0C90348F6")
    static let bitrateMutualExclusion = GUID("D6E229DC-35DA-11D1-9034-00A0C90349BE")
    static let contentDescription = GUID("75B22633-668E-11CF-A6D9-00AA0062CE6C")
    static let extendedContentDescription = GUID("D2D0A440-E307-11D2-97F0-00A0C95EA850")
    static let streamBitrateProperties = GUID("7BF875CE-468D-11D1-8D82-006097C9A2B2")
    static let padding = GUID("1806D474-CADF-4509-A4BA-9AABCB96AAE8")
    static let scriptCommand = GUID("1EFB1A30-0B62-11D0-A39B-00A0C90348F6")
    static let marker = GUID("F487CD01-A951-11CF-8EE6-00C00C205365")

    // Header Extension objects (ASF spec 4)
    static let extendedStreamProperties = GUID("14E6A5CB-C672-4332-8399-A96952065B5A")
    static let advancedMutualExclusion = GUID("A08649CF-4775-4670-8A16-6E35357566CD")
    static let groupMutualExclusion = GUID("D1465A40-5A79-4338-B71B-E36B8FD6C249")
    static let languageList = GUID("7C4346A9-EFE0-4BFC-B229-393EDE415C85")
    static let metadata = GUID("C5F8CBEA-5BAF-4877-8467-AA8C44FA4CCA")
    static let metadataLibrary = GUID("44231C94-9498-49D1-A141-1D134E457054")

    // Reserved fields and stream types (ASF spec 10)
    static let headerExtensionReserved1 = GUID("ABD3D211-A9BA-11CF-8EE6-00C00C205365")
    static let codecListReserved = GUID("86D15241-311D-11D0-A3A4-00A0C90348F6")
    static let audioMedia = GUID("F8699E40-5B4D-11CF-A8FD-00805F5C442B")
    static let videoMedia = GUID("BC19EFC0-5B4D-11CF-A8FD-00805F5C442B")
    static let commandMedia = GUID("59DACFC0-59E6-11D0-A3AC-00A0C90348F6")
    static let jfifMedia = GUID("B61BE100-5B4E-11CF-A8FD-00805F5C442B")
    static let degradableJPEGMedia = GUID("35907DE0-E415-11CF-A917-00805F5C442B")
    static let fileTransferMedia = GUID("91BD222C-F21C-497A-8B6D-5AA86BFC0185")
    static let binaryMedia = GUID("3AFB65E2-47EF-40F2-AC2C-70A90D71D343")
    static let noErrorCorrection = GUID("20FB5700-5B55-11CF-A8FD-00805F5C442B")
    static let audioSpread = GUID("BFC3CD50-618F-11CF-8BB2-00AA00B4E220")

    // Mutual exclusion types (ASF spec 10.7)
    static let mutexLanguage = GUID("D6E22A00-35DA-11D1-9034-00A0C90349BE")
    static let mutexBitrate = GUID("D6E22A01-35DA-11D1-9034-00A0C90349BE")
    static let mutexUnknown = GUID("D6E22A02-35DA-11D1-9034-00A0C90349BE")
}
