import ASF
import Foundation
import NIOCore
import Testing

@Suite struct ASFStreamReaderTests {
    static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Media").path

    @Test func aStreamOnAPipeIsReadToItsLastPacket() throws {
        let file = try ASFFile(path: Self.media + "/demo.wmv")
        let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
        var input = ByteBuffer(bytes: data)
        var reader = try ASFStreamReader { count in input.readSlice(length: min(count, input.readableBytes))! }
        var count = 0
        while let packet = try reader.next() {
            #expect(packet.readableBytes == file.packetSize)
            count += 1
        }
        #expect(count == file.packetCount)
        #expect(reader.header == file.header)
    }

    /// What `ffmpeg -f asf -` writes to a pipe: sizes and counts 0, the packets, then the index.
    @Test func aStreamOfUnknownLengthEndsAtItsIndex() throws {
        let file = try ASFFile(path: Self.media + "/demo.wmv")
        var stream = file.header.streamingHeaderOfUnknownSize
        for var packet in try file.readPackets(0..<30) { stream.writeBuffer(&packet) }
        stream.writeGUID(.simpleIndex)
        stream.writeRepeatingByte(0, count: file.packetSize)
        var reader = try ASFStreamReader { count in stream.readSlice(length: min(count, stream.readableBytes))! }
        var count = 0
        while try reader.next() != nil { count += 1 }
        #expect(count == 30)
    }

    @Test func aTruncatedHeaderIsAnError() throws {
        let file = try ASFFile(path: Self.media + "/demo.wmv")
        var stream = file.headerBytes.getSlice(at: 0, length: 100)!
        #expect(throws: ASFError.self) { _ = try ASFStreamReader { count in stream.readSlice(length: min(count, stream.readableBytes))! } }
    }
}
