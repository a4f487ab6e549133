import ASF
import Foundation
import MediaImport
import NIOCore
import Testing

/// libavformat's own ASF demuxer, an independent reader, must see what our parser sees.
struct OracleTests {
    static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Media")
    static let samples = ["demo.wmv", "audio.wma", "multibitrate.wmv", "noindex.wmv"]

    @Test(arguments: samples)
    func libavformatAgreesWithOurParser(name: String) throws {
        let path = Self.media.appendingPathComponent(name).path
        let ours = try FileReport(ASFFile(path: path))
        let theirs = try MediaInfo.probe(path: path, countPackets: true)

        #expect(theirs.formatName == "asf")
        #expect(theirs.streams.count == ours.streams.count)
        for stream in ours.streams {
            let match = try #require(theirs.streams.first { $0.id == Int(stream.number) }, "stream \(stream.number)")
            #expect(match.type == stream.type)
            #expect(match.codecTag == stream.codecTag, "codec of stream \(stream.number)")
            // libavformat returns one packet per media object.
            #expect(match.packetCount == stream.mediaObjects, "media objects of stream \(stream.number)")
        }
        // libavformat reports the play duration less the preroll, as we do; it adds the last frame.
        #expect(abs(theirs.duration - Double(ours.durationMilliseconds) / 1000) < 0.1)
    }
}

struct ImportTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("asfcast-\(UUID().uuidString)-\(name)").path
    }

    @Test func matroskaClipImportsWithItsStreamsAndFrames() throws {
        let input = Self.fixtures.appendingPathComponent("clip.mkv").path
        let output = Self.temporary("clip.asf")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let report = try MediaImporter.importFile(input, to: output)
        #expect(report.carried == ["video mpeg4", "audio mp3"])

        let source = try MediaInfo.probe(path: input, countPackets: true)
        let imported = try MediaInfo.probe(path: output, countPackets: true)
        #expect(imported.formatName == "asf")
        #expect(imported.streams.map(\.codecName) == ["mpeg4", "mp3"])
        #expect(imported.streams.map(\.packetCount) == source.streams.map(\.packetCount))
        #expect(abs(imported.duration - source.duration) < 0.2)

        let file = try ASFFile(path: output)
        #expect(file.header.averageBitrate(of: 1) != nil, "a Stream Bitrate Properties Object was added")
        #expect(!file.simpleIndexes.isEmpty)
    }

    @Test func codecASFCannotCarryIsNamed() throws {
        let output = Self.temporary("tone.asf")
        let error = #expect(throws: LibAVError.self) {
            try MediaImporter.importFile(Self.fixtures.appendingPathComponent("tone.opus").path, to: output)
        }
        #expect(error?.description.contains("'opus'") == true)
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func unreadableInputIsAnError() throws {
        #expect(throws: LibAVError.self) {
            try MediaImporter.importFile("/nonexistent.mkv", to: Self.temporary("x.asf"))
        }
    }
}

/// Files our writer produces, and packets our stream filter rewrites, must read in libavformat.
struct WrittenFileTests {
    @Test func filteredStreamWrittenToAFileReadsInLibavformat() throws {
        let source = try ASFFile(path: OracleTests.media.appendingPathComponent("multibitrate.wmv").path)
        let selection: Set<UInt8> = [2, 4]
        let output = ImportTests.temporary("filtered.wmv")
        defer { try? FileManager.default.removeItem(atPath: output) }
        let header = source.header.removingStreams(Set(source.header.streams.map(\.streamNumber)).subtracting(selection))
        let writer = try ASFFileWriter(path: output, header: header)
        let filter = StreamFilter(selection: selection)
        var reader = source.packets()
        while let (_, bytes) = try reader.next() {
            if let out = try filter.apply(try DataPacket(parsing: bytes), original: bytes, packetSize: source.packetSize) {
                try writer.write(packet: out)
            }
        }
        try writer.finish()

        let ours = try FileReport(source)
        let theirs = try MediaInfo.probe(path: output, countPackets: true)
        #expect(theirs.streams.map(\.id) == [2, 4])
        for stream in theirs.streams {
            #expect(stream.packetCount == ours.streams.first { Int($0.number) == stream.id }?.mediaObjects)
        }
    }
}
