import Testing
@testable import AsfcastServer

/// The admin API's points over the file's: added ones after the file's (and over one of the
/// same name), removed ones gone, a removal of the API's own point leaving no trace.
struct PointOverlayTests {
    static func point(_ name: String, _ file: String = "demo.wmv") -> ServerConfiguration.Point {
        ServerConfiguration.Point(name: name, path: "/\(name)", source: .file(file))
    }

    @Test func theAPIsChangesLieOverTheFile() {
        let file = [Self.point("a"), Self.point("b")]
        var overlay = PointOverlay()
        #expect(overlay.points(over: file) == file)
        overlay.add(Self.point("c"))
        overlay.remove("a", file: file)
        #expect(overlay.points(over: file).map(\.name) == ["b", "c"])
        // The file gains a point of the API's name: the API's settings win.
        overlay.add(Self.point("b", "audio.wma"))
        #expect(overlay.points(over: file + [Self.point("c", "other.wmv")]) == [Self.point("c"), Self.point("b", "audio.wma")])
        // Removing the API's own point leaves the file's alone; adding a removed one back undoes the removal.
        overlay.remove("c", file: file)
        #expect(overlay.points(over: file).map(\.name) == ["b"] && overlay.removed == ["a"])
        overlay.add(Self.point("a"))
        #expect(overlay.removed.isEmpty && overlay.points(over: file).map(\.name) == ["b", "a"])
    }
}
