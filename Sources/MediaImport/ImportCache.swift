import Foundation
import NIOConcurrencyHelpers

/// Remuxed copies of non-ASF files, made once and kept: the server serves the copy while the
/// source is unchanged (same size and modification time).
public final class ImportCache: Sendable {
    public let directory: String
    /// One import at a time: imports are rare and each fills the cache for every later client.
    private let lock = NIOLock()

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// The cached ASF copy of `source`, importing it first if needed.
    public func asf(for source: String) throws -> String {
        let attributes = try FileManager.default.attributesOfItem(atPath: source)
        let size = (attributes[.size] as? NSNumber)?.uint64Value ?? 0
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let key = Self.fingerprint("\(source)\u{0}\(size)\u{0}\(modified)")
        let target = directory + "/" + key + ".asf"
        return try lock.withLock {
            if FileManager.default.fileExists(atPath: target) { return target }
            let staging = target + ".importing.asf"
            defer { try? FileManager.default.removeItem(atPath: staging) }
            try MediaImporter.importFile(source, to: staging)
            try FileManager.default.moveItem(atPath: staging, toPath: target)
            return target
        }
    }

    /// FNV-1a, 64-bit, in hex: a stable file name for a cache key.
    static func fingerprint(_ text: String) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01B3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
