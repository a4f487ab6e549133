import ASF
import NIOCore

/// The encoded block of a `.nsc` value (MS-MSB 2.2.1.3): `02`, then a blob of CRC (1 byte),
/// Key (4, big-endian), Length (4, big-endian) and the data, written as 6-bit groups, most
/// significant bit first, over the alphabet of 2.2.1.3.1. The CRC is the XOR of every byte
/// after it. Strings are UTF-16LE with their NUL counted (2.2.1.2); an ASF header's Key is its
/// Format ID (2.2.1.4).
public struct NSCEncodedBlock: Equatable, Sendable {
    public var key: UInt32
    public var data: [UInt8]

    public init(key: UInt32 = 0, data: [UInt8]) {
        self.key = key
        self.data = data
    }

    /// A string value: UTF-16LE and its NUL.
    public init(string: String) {
        var bytes = ByteBuffer()
        bytes.writeUTF16LE(string, terminated: true)
        self.init(data: Array(bytes.readableBytesView))
    }

    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz{}".utf8)

    /// The inverse of the alphabet: 0xFF for a character outside it (2.2.1.3.2).
    static let inverse: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// `02` and the blob in 6-bit characters, the last group zero-padded.
    public var encoded: String {
        let length = UInt32(data.count)
        let header = [key, length].flatMap { v in (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) } }
        let crc = (header + data).reduce(0, ^)
        var out: [UInt8] = Array("02".utf8)
        out.reserveCapacity(2 + ((9 + data.count) * 8 + 5) / 6)
        var bits: UInt32 = 0
        var count = 0
        for byte in [crc] + header + data {
            bits = bits << 8 | UInt32(byte)
            count += 8
            while count >= 6 {
                count -= 6
                out.append(Self.alphabet[Int(bits >> UInt32(count) & 0x3F)])
            }
        }
        if count > 0 { out.append(Self.alphabet[Int(bits << UInt32(6 - count) & 0x3F)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes an encoded value (with its `02`), checking the characters, the Length against
    /// what the characters hold, and the CRC.
    public init(decoding value: Substring) throws(NSCFormatError) {
        guard value.hasPrefix("02") else { throw .notEncoded }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count * 6 / 8)
        var bits: UInt32 = 0
        var count = 0
        for c in value.utf8.dropFirst(2) {
            let sextet = Self.inverse[Int(c)]
            guard sextet != 0xFF else { throw .badCharacter(Character(Unicode.Scalar(c))) }
            bits = (bits << 6 | UInt32(sextet)) & 0xFFFF
            count += 6
            if count >= 8 {
                count -= 8
                bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(count)))
            }
        }
        guard bytes.count >= 9 else { throw .tooShort }
        let word = { (at: Int) in bytes[at..<at + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
        let length = Int(word(5))
        guard length <= bytes.count - 9 else { throw .lengthPastEnd(declared: length, held: bytes.count - 9) }
        let crc = bytes[1..<9 + length].reduce(0, ^)
        guard crc == bytes[0] else { throw .badCRC(stored: bytes[0], computed: crc) }
        key = word(1)
        data = Array(bytes[9..<9 + length])
    }

    /// The data as a string: UTF-16LE up to its NUL.
    public func string() throws(NSCFormatError) -> String {
        guard data.count % 2 == 0 else { throw .oddStringLength(data.count) }
        var bytes = ByteBuffer(bytes: data)
        return bytes.readUTF16LE()
    }
}

/// What is wrong with one `.nsc` value.
public enum NSCFormatError: Error, Equatable, CustomStringConvertible {
    case notEncoded
    case badCharacter(Character)
    case tooShort
    case lengthPastEnd(declared: Int, held: Int)
    case badCRC(stored: UInt8, computed: UInt8)
    case oddStringLength(Int)
    case notAnInteger

    public var description: String {
        switch self {
        case .notEncoded: "not an encoded block (no 02 prefix)"
        case let .badCharacter(c): "character \"\(c)\" is not in the encoding's alphabet"
        case .tooShort: "shorter than the 9 bytes of CRC, Key and Length"
        case let .lengthPastEnd(declared, held): "Length \(declared) but \(held) bytes of data"
        case let .badCRC(stored, computed): "CRC \(hex(stored)), the bytes give \(hex(computed))"
        case let .oddStringLength(n): "a UTF-16 string of \(n) bytes"
        case .notAnInteger: "not an integer (0x and hexadecimal digits)"
        }
    }

    private func hex(_ v: UInt8) -> String { "0x" + String(v, radix: 16, uppercase: true) }
}
