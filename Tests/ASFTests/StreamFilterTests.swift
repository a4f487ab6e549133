@testable import ASF
import NIOCore
import Testing

struct StreamFilterTests {
    /// Filters every packet of `name` to `selection` and checks what comes out.
    private func filtered(_ name: String, _ selection: Set<UInt8>) throws -> (kept: [ByteBuffer], file: ASFFile) {
        let file = try ASFFile(path: Samples.path(name))
        let filter = StreamFilter(selection: selection)
        var reader = file.packets()
        var kept = [ByteBuffer]()
        while let (_, bytes) = try reader.next() {
            if let out = try filter.apply(try DataPacket(parsing: bytes), original: bytes, packetSize: file.packetSize) {
                kept.append(out)
            }
        }
        return (kept, file)
    }

    @Test func keepsOnlyTheSelectedStreamWithEveryOneOfItsPayloads() throws {
        let (kept, file) = try filtered("multibitrate.wmv", [3, 4])
        let report = try FileReport(file)
        var payloads: [UInt8: Int] = [:]
        for bytes in kept {
            #expect(bytes.readableBytes == file.packetSize)
            let packet = try DataPacket(parsing: bytes)
            #expect(packet.streamNumbers.isSubset(of: [3, 4]))
            for p in packet.payloads { payloads[p.streamNumber, default: 0] += 1 }
        }
        #expect(payloads[3] == report.streams.first { $0.number == 3 }?.payloads)
        #expect(payloads[4] == report.streams.first { $0.number == 4 }?.payloads)
        #expect(kept.count < file.packetCount, "packets with only other streams are dropped")
    }

    @Test func packetsWithOnlySelectedStreamsAreTheSameBytes() throws {
        let file = try ASFFile(path: Samples.path("demo.wmv"))
        let bytes = try #require(file.readPackets(0..<1).first)
        let packet = try DataPacket(parsing: bytes)
        let out = try StreamFilter(selection: [1, 2]).apply(packet, original: bytes, packetSize: file.packetSize)
        #expect(out == bytes)
        #expect(out?.withUnsafeReadableBytes { $0.baseAddress } == bytes.withUnsafeReadableBytes { $0.baseAddress },
                "no copy: the same storage")
        #expect(try StreamFilter(selection: [9]).apply(packet, original: bytes, packetSize: file.packetSize) == nil)
    }
}
