@testable import ASF
import Foundation
import NIOCore
import Testing

struct FileTests {
    @Test func readerStreamsEveryPacketAcrossBatchBoundaries() throws {
        let file = try ASFFile(path: Samples.path("demo.wmv"))
        let raw = try Samples.bytes("demo.wmv")
        var reader = file.packets(from: 5, batch: 7)
        var expected = 5
        while let (number, bytes) = try reader.next() {
            #expect(number == expected)
            #expect(bytes == raw.getSlice(at: file.dataOffset + number * file.packetSize, length: file.packetSize))
            expected += 1
        }
        #expect(expected == file.packetCount)
    }

    @Test func seekThroughTheSimpleIndexLandsOnAKeyFrame() throws {
        let file = try ASFFile(path: Samples.path("demo.wmv"))
        #expect(!file.simpleIndexes.isEmpty)
        let number = try file.packetNumber(forTime: 10_000)
        let packet = try file.packet(number)
        let key = try #require(packet.payloads.first { $0.streamNumber == 1 && $0.isKeyFrame && $0.startsMediaObject })
        let time = Int(key.presentationTime!) - Int(file.header.fileProperties.preroll)
        // Key frames come every second; the nearest to 10 s is within half a second of it.
        #expect((9_500...10_500).contains(time), "key frame at \(time) ms")
    }

    @Test func seekWithoutAnIndexSearchesSendTimesBackToAKeyFrame() throws {
        let file = try ASFFile(path: Samples.path("noindex.wmv"))
        #expect(file.simpleIndexes.isEmpty && file.index == nil)
        let number = try file.packetNumber(forTime: 5_000)
        let packet = try file.packet(number)
        #expect(packet.startsKeyFrame(of: 1))
        #expect(packet.sendTime <= 5_000)
        #expect(try file.packetNumber(forTime: 0) == 0)
    }

    @Test func writerProducesAFileWithCountsAndIndex() throws {
        let source = try ASFFile(path: Samples.path("noindex.wmv"))
        let path = Samples.temporaryPath("written.wmv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try ASFFileWriter(path: path, header: source.header)
        var reader = source.packets()
        while let (_, bytes) = try reader.next() { try writer.write(packet: bytes) }
        try writer.finish()

        let written = try ASFFile(path: path)
        #expect(written.packetCount == source.packetCount)
        #expect(written.dataObject.totalDataPackets == UInt64(source.packetCount))
        #expect(written.header.fileProperties.dataPacketsCount == UInt64(source.packetCount))
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(written.header.fileProperties.fileSize == UInt64(size))
        let index = try #require(written.simpleIndexes.first)
        #expect(index.entries.count == Int(written.durationMilliseconds + written.header.fileProperties.preroll) / 1000 + 1)
        for (slot, entry) in index.entries.enumerated() {
            let packet = try written.packet(Int(entry.packetNumber))
            let key = try #require(packet.payloads.first { $0.isKeyFrame && $0.startsMediaObject && $0.streamNumber == 1 })
            #expect(Int(key.presentationTime!) <= max(slot * 1000, Int(key.presentationTime!)))
        }
        // The same packets, byte for byte.
        for n in [0, 1, source.packetCount - 1] {
            #expect(try written.readPackets(n..<n + 1) == source.readPackets(n..<n + 1))
        }
    }

    @Test func writerRefusesPacketsOfTheWrongSize() throws {
        let source = try ASFFile(path: Samples.path("demo.wmv"))
        let path = Samples.temporaryPath("bad.wmv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let writer = try ASFFileWriter(path: path, header: source.header)
        #expect(throws: ASFError.self) { try writer.write(packet: ByteBuffer(bytes: [0x82, 0, 0])) }
    }

    @Test func missingAndNonASFFilesAreTypedErrors() throws {
        #expect(throws: ASFError.self) { try ASFFile(path: "/nonexistent/file.wmv") }
        #expect(throws: ASFError.self) { try ASFFile(path: Samples.root.appendingPathComponent("Makefile").path) }
    }

    @Test func truncatedFileReportsOnlyWholePackets() throws {
        let raw = try Samples.bytes("demo.wmv")
        let file = try ASFFile(path: Samples.path("demo.wmv"))
        let path = Samples.temporaryPath("cut.wmv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cut = file.dataOffset + 10 * file.packetSize + 100
        try Data(raw.getBytes(at: 0, length: cut)!).write(to: URL(fileURLWithPath: path))
        let truncated = try ASFFile(path: path)
        #expect(truncated.packetCount == 10)
        #expect(try FileReport(truncated).packetCount == 10)
    }
}
