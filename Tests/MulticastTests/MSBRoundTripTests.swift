import ASF
import Foundation
import Multicast
import NIOCore
import Testing

/// The sender's datagrams through the receiver give back the file's packets: every sample, with
/// and without FEC, with a packet of each span lost.
@Suite struct MSBRoundTripTests {
    static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Media")

    static func packets(_ name: String) throws -> (ASFFile, [ByteBuffer]) {
        let file = try ASFFile(path: media.appendingPathComponent(name).path)
        var reader = file.packets()
        var packets: [ByteBuffer] = []
        while let (_, bytes) = try reader.next() { packets.append(bytes) }
        return (file, packets)
    }

    /// What the receiver hands out of `datagrams`, those at `lost` dropped.
    static func received(_ datagrams: [ByteBuffer], lost: Set<Int> = [], packetSize: Int, video: Set<UInt8> = []) -> ([ByteBuffer], MSBReceiver.Statistics) {
        var receiver = MSBReceiver(formats: [7: .init(packetSize: packetSize, videoStreams: video)])
        var out: [ByteBuffer] = []
        for (i, datagram) in datagrams.enumerated() where !lost.contains(i) {
            for case let .packet(p) in receiver.receive(datagram) { out.append(p) }
        }
        for case let .packet(p) in receiver.finish() { out.append(p) }
        return (out, receiver.statistics)
    }

    static func datagrams(_ packets: [ByteBuffer], fecSpan: Int) -> (data: [ByteBuffer], all: [ByteBuffer]) {
        var sender = MSBSender(fecSpan: fecSpan)
        sender.newEntry(formatID: 7)
        var data: [ByteBuffer] = [], all: [ByteBuffer] = []
        for packet in packets {
            switch sender.datagrams(for: packet) {
            case let .packet(d): data.append(d); all.append(d)
            case let .packetAndParity(d, p): data.append(d); all.append(d); all.append(p)
            case let .dropped(reason): Issue.record("dropped: \(reason)")
            }
        }
        return (data, all)
    }

    /// A packet as the receiver gives it back is the stored one, bytes 3... (the error
    /// correction data carries the span's fields on the wire) and the padding's content aside.
    static func same(_ a: ByteBuffer, _ b: ByteBuffer) -> Bool {
        guard a.readableBytes == b.readableBytes, let pa = try? DataPacket(parsing: a), let pb = try? DataPacket(parsing: b) else { return false }
        return pa.sendTime == pb.sendTime && pa.duration == pb.duration && pa.payloads == pb.payloads
    }

    @Test(arguments: ["demo.wmv", "audio.wma", "multibitrate.wmv", "noindex.wmv"])
    func everyPacketComesBackAtItsSize(_ name: String) throws {
        let (file, packets) = try Self.packets(name)
        for span in [0, 10] {
            let (data, all) = Self.datagrams(packets, fecSpan: span)
            #expect(data.allSatisfy { $0.readableBytes <= file.packetSize + 8 + 3 })
            let (out, stats) = Self.received(all, packetSize: file.packetSize)
            #expect(out.count == packets.count)
            #expect(stats.lost == 0 && stats.malformed == 0)
            for (i, (a, b)) in zip(out, packets).enumerated() where !Self.same(a, b) {
                Issue.record("\(name), span \(span): packet \(i) differs")
                break
            }
        }
    }

    @Test func oneLostPacketPerSpanIsRebuilt() throws {
        let (file, packets) = try Self.packets("demo.wmv")
        let (_, all) = Self.datagrams(packets, fecSpan: 10)
        // The 4th data packet of each span (each span is 10 data packets and a parity), and so
        // data packet 10k + 3; the last span, shorter, has no parity.
        let lost = Set(stride(from: 3, to: all.count, by: 11))
        let lostData = lost.map { $0 / 11 * 10 + 3 }
        let spans = packets.count / 10
        let (out, stats) = Self.received(all, lost: lost, packetSize: file.packetSize)
        #expect(stats.recovered == spans)
        #expect(stats.lost == lost.count - spans)
        let expected = packets.enumerated().filter { i, _ in !lostData.contains(i) || i < spans * 10 }.map(\.element)
        #expect(out.count == expected.count)
        for (i, (a, b)) in zip(out, expected).enumerated() where !Self.same(a, b) {
            Issue.record("packet \(i) differs")
            break
        }
    }

    @Test func outputStartsAtAKeyFrame() throws {
        let (file, packets) = try Self.packets("demo.wmv")
        let video = Set(file.header.streams.filter { $0.kind == .video }.map(\.streamNumber))
        let (all, _) = Self.datagrams(Array(packets.dropFirst(5)), fecSpan: 0)
        let (out, _) = Self.received(all, packetSize: file.packetSize, video: video)
        let first = try DataPacket(parsing: out[0])
        let firstVideo = try #require(first.payloads.first { video.contains($0.streamNumber) })
        #expect(firstVideo.isKeyFrame && firstVideo.startsMediaObject)
    }
}
