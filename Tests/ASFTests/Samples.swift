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
