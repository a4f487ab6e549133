import ASF
import Foundation
import NIOCore

/// The sample content in Media/ and the test fixtures, located from this source file.
enum Samples {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let media = root.appendingPathComponent("Media")

    static let all = ["demo.wmv", "audio.wma", "multibitrate.wmv", "noindex.wmv"]

    static func path(_ name: String) -> String { media.appendingPathComponent(name).path }

    static func bytes(_ name: String) throws -> ByteBuffer {
        ByteBuffer(bytes: try Data(contentsOf: media.appendingPathComponent(name)))
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("asfcast-\(UUID().uuidString)-\(name)").path
    }
}

/// A small deterministic generator, so that a failing mutation can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
