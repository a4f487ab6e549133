import Foundation
import Testing
@testable import Streaming

struct PublishingPointTests {
    static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Media").path

    let points = PublishingPoints([PublishingPoint(name: "default", path: "/", kind: .onDemand(directory: media))])

    @Test func filesUnderTheRootAreFound() {
        guard case let .file(point, path) = points.lookup("/demo.wmv?x=1") else { Issue.record("not found"); return }
        #expect(point == "default")
        #expect(path.hasSuffix("/Media/demo.wmv"))
        if case .notFound = points.lookup("/demo%2Ewmv") { Issue.record("percent-encoded name not found") }
    }

    @Test(arguments: ["/../Makefile", "/%2e%2e/Makefile", "/./demo.wmv", "//etc/passwd", "/missing.wmv", "/", "demo.wmv", "/a\\b"])
    func escapesAndMissingFilesAreNotFound(path: String) {
        guard case .notFound = points.lookup(path) else { Issue.record("\(path) found"); return }
    }

    @Test func symbolicLinksOutOfTheRootAreNotFound() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("asfcast-root-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("out.wmv").path, withDestinationPath: "/etc/hostname")
        try FileManager.default.createSymbolicLink(atPath: dir.appendingPathComponent("in.wmv").path, withDestinationPath: Self.media + "/demo.wmv")
        let linked = PublishingPoints([PublishingPoint(name: "p", path: "/p", kind: .onDemand(directory: dir.path))])
        guard case .notFound = linked.lookup("/p/out.wmv") else { Issue.record("escaped through a link"); return }
        guard case .notFound = linked.lookup("/p/in.wmv") else { Issue.record("a link out of the root, even to media, is refused"); return }
    }
}
