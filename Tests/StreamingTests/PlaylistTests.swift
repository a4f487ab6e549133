import Foundation
import Logging
import Testing
@testable import Streaming

struct PlaylistTests {
    @Test func parsesTheSampleWithClipTimes() throws {
        let path = PacingTests.media.appendingPathComponent("playlist.wsx").path
        let playlist = try Playlist(parsing: Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(playlist.entries == [.init(source: "demo.wmv", clipBegin: nil, clipEnd: nil),
                                     .init(source: "noindex.wmv", clipBegin: nil, clipEnd: 5000)])
        let entries = playlist.openEntries(relativeTo: path, root: PacingTests.media.path, logger: Logger(label: "test"))
        #expect(entries.count == 2)
    }

    @Test func repeatsNestingAndClockValues() throws {
        let xml = """
        <?wsx version="1.0"?>
        <smil><seq repeatCount="2"><media src="a.wmv" clipBegin="00:01:02.5" clipEnd="90s"/>
        <seq><media src="b.wmv" repeatCount="3" clipEnd="1500ms"/></seq></seq></smil>
        """
        let playlist = try Playlist(parsing: Data(xml.utf8))
        #expect(playlist.entries.map(\.source) == ["a.wmv", "b.wmv", "b.wmv", "b.wmv", "a.wmv", "b.wmv", "b.wmv", "b.wmv"])
        #expect(playlist.entries[0].clipBegin == 62_500 && playlist.entries[0].clipEnd == 90_000)
        #expect(playlist.entries[1].clipEnd == 1500)
        let endless = try Playlist(parsing: Data("<smil><media src=\"a.wmv\" repeatCount=\"indefinite\"/></smil>".utf8))
        #expect(endless.entries.count == Playlist.maximumEntries)
    }

    @Test(arguments: ["not xml", "<html/>", "<smil><media/></smil>", "<smil><media src=\"a\" clipEnd=\"soon\"/></smil>",
                      "<smil><media src=\"a\" repeatCount=\"0\"/></smil>", "<smil><media src=\"a\"></smil>", "<smil><media src=a/></smil>",
                      "<smil/><smil/>", "<?wsx?><smil><!-- open", "<smil><media src=\"&bogus;\"/></smil>"])
    func malformedPlaylistsAreErrors(xml: String) {
        #expect(throws: Playlist.Failure.self) { try Playlist(parsing: Data(xml.utf8)) }
    }

    /// Invalid UTF-8 in a comment made Foundation's XMLParser trap (fuzzing, wsx target): it is
    /// an error now. UTF-16 with a byte-order mark, as Notepad saves, still reads.
    @Test func playlistBytesMustBeText() throws {
        var bad = Data("<smil><!-- caf".utf8)
        bad.append(0xE9)
        bad.append(contentsOf: Data(" --><media src=\"a.wmv\"/></smil>".utf8))
        #expect(throws: Playlist.Failure.self) { try Playlist(parsing: bad) }
        let utf16 = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><smil><seq><media src=\"é.wmv\"/></seq></smil>"
        let playlist = try Playlist(parsing: utf16.data(using: .utf16)!)
        #expect(playlist.entries.map(\.source) == ["é.wmv"])
        // A processing instruction without data made XMLParser dereference NULL (fuzzing).
        #expect(try Playlist(parsing: Data("<?wsx?><!DOCTYPE smil><smil><media src=\"a&amp;b&#233;.wmv\"/></smil>".utf8)).entries.map(\.source) == ["a&bé.wmv"])
        // Clock values and repeat counts past any real one saturate instead of trapping.
        let huge = try Playlist(parsing: Data("<smil><media src=\"a\" clipEnd=\"1e300s\" repeatCount=\"1e300\"/></smil>".utf8))
        #expect(huge.entries.count == Playlist.maximumEntries && huge.entries[0].clipEnd == .max)
    }

    @Test func missingAndEscapingEntriesAreSkipped() throws {
        let xml = "<smil><seq><media src=\"missing.wmv\"/><media src=\"../Makefile\"/><media src=\"http://x/y.wmv\"/><media src=\"demo.wmv\"/></seq></smil>"
        let path = PacingTests.media.appendingPathComponent("virtual.wsx").path
        let entries = try Playlist(parsing: Data(xml.utf8)).openEntries(relativeTo: path, root: PacingTests.media.path, logger: Logger(label: "test"))
        #expect(entries.map { URL(fileURLWithPath: $0.file.path).lastPathComponent } == ["demo.wmv"])
    }
}
