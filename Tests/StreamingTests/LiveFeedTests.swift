import ASF
import Foundation
import Logging
import NIOCore
import Testing
@testable import Streaming

@Suite struct LiveFeedTests {
    static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Media").path
    let logger = Logger(label: "test")

    /// Packets as an encoder pushes them: padding cut, Padding Length 0 (MS-WMHTTP 2.2.3.2).
    static func stripped(_ packet: ByteBuffer) throws -> ByteBuffer {
        let parsed = try DataPacket(parsing: packet)
        var copy = parsed
        copy.padding = ByteBuffer()
        copy.paddingLength = 0
        var out = ByteBuffer()
        copy.write(to: &out)
        return out
    }

    @Test func packetsWithoutPaddingArePaddedToThePacketSizeAgain() throws {
        let file = try ASFFile(path: Self.media + "/demo.wmv")
        let feed = LiveFeed(header: file.header, logger: logger)
        let packets = try file.readPackets(0..<40)
        var shortened = 0
        for packet in packets {
            let short = try Self.stripped(packet)
            if short.readableBytes < packet.readableBytes { shortened += 1 }
            try feed.append(short)
        }
        #expect(shortened > 0)
        for original in packets {
            guard case let .packet(live) = feed.next() else { Issue.record("no packet"); return }
            #expect(live.bytes.readableBytes == file.packetSize)
            let parsed = try DataPacket(parsing: live.bytes)
            #expect(parsed.departures.isEmpty, "\(parsed.departures)")
            #expect(parsed.payloads == (try DataPacket(parsing: original)).payloads)
            #expect(parsed.paddingLength == UInt32(parsed.padding.readableBytes))
        }
        guard case .later = feed.next() else { Issue.record("expected .later"); return }
        feed.finish()
        guard case .ended = feed.next() else { Issue.record("expected .ended"); return }
    }

    @Test func anEncoderThatStartsAgainGoesOnOnTheSameClock() throws {
        let file = try ASFFile(path: Self.media + "/demo.wmv")
        let feed = LiveFeed(header: file.header, logger: logger)
        let packets = try file.readPackets(0..<20)
        for packet in packets { try feed.append(packet) }
        feed.restart()
        for packet in packets { try feed.append(packet) }
        var times: [UInt32] = []
        while case let .packet(p) = feed.next() { times.append(p.sendTime) }
        #expect(times.count == 40)
        #expect(zip(times, times.dropFirst()).allSatisfy { $0 <= $1 }, "\(times)")
        #expect(times[20] > times[19])
    }

    @Test func aPacketLongerThanThePacketSizeIsRefusedAndTheFeedGoesOn() throws {
        let file = try ASFFile(path: Self.media + "/demo.wmv")
        let feed = LiveFeed(header: file.header, logger: logger)
        var long = try file.readPackets(0..<1)[0]
        long.writeRepeatingByte(0, count: 10)
        #expect(throws: LiveFeed.Unreadable.self) { try feed.append(long) }
        #expect(throws: LiveFeed.Unreadable.self) { try feed.append(ByteBuffer(bytes: [0x82, 0, 0])) }
        try feed.append(try file.readPackets(1..<2)[0])
        #expect(feed.counts == LiveFeed.Counts(unreadable: 2, dropped: 0))
        guard case .packet = feed.next() else { Issue.record("no packet"); return }
    }
}
