import ASF
import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import Streaming

struct BroadcastTests {
    static func file(_ name: String) throws -> ASFFile {
        try ASFFile(path: PacingTests.media.appendingPathComponent(name).path)
    }

    @Test func loopingSourceRunsOnOneClockAcrossTheLoop() throws {
        let demo = try Self.file("demo.wmv")
        var source = try LoopingSource(files: [demo])
        #expect(source.header.fileProperties.flags.contains(.broadcast))
        var last: LivePacket?
        var presentations: [UInt32] = []
        for i in 0..<(demo.packetCount * 2 + 5) {
            let packet = try source.next()
            #expect(packet.locationID == UInt32(i))
            if let last { #expect(packet.sendTime >= last.sendTime) }
            let parsed = try DataPacket(parsing: packet.bytes)
            presentations += parsed.payloads.filter { $0.streamNumber == 1 && $0.startsMediaObject }.compactMap(\.presentationTime)
            last = packet
        }
        // Video frames keep their spacing over the loop: strictly increasing, no gap beyond two frames.
        for (a, b) in zip(presentations, presentations.dropFirst()) {
            #expect(b > a && b - a <= 140, "\(a) -> \(b)")
        }
    }

    @Test func incompatibleFilesAreRefused() throws {
        #expect(throws: LoopingSource.Incompatible.self) { try LoopingSource(files: [Self.file("demo.wmv"), Self.file("audio.wma")]) }
        #expect(throws: LoopingSource.Incompatible.self) { try LoopingSource(files: []) }
        _ = try LoopingSource(files: [Self.file("demo.wmv"), Self.file("noindex.wmv")])
    }

    final class Collector: BroadcastSubscriber {
        var packets: [LivePacket] = []
        func receive(_ packets: [LivePacket]) { self.packets += packets }
    }

    @Test func lateJoinerStartsAtTheLatestKeyFrameAndEarlyJoinerWaitsForOne() throws {
        let loop = EmbeddedEventLoop()
        let demo = try Self.file("demo.wmv")
        var source = try LoopingSource(files: [demo])
        let relay = BroadcastRelay(eventLoop: loop, packetSize: demo.packetSize, videoStreams: [1])
        let early = Collector()
        // The first packet of the file is a clean point: drop it so the relay starts mid-GOP.
        _ = try source.next()
        #expect(relay.join(early).isEmpty)
        let batch = try (0..<40).map { _ in try source.next() }
        relay.deliver(batch)
        let late = Collector()
        let burst = relay.join(late)
        #expect(!burst.isEmpty)
        for start in [burst.first!, early.packets.first!] {
            let packet = try DataPacket(parsing: start.bytes)
            let firstVideo = try #require(packet.payloads.first { $0.streamNumber == 1 })
            #expect(firstVideo.isKeyFrame && firstVideo.startsMediaObject)
        }
        relay.deliver(try (0..<5).map { _ in try source.next() })
        #expect(late.packets.count == 5)
        relay.leave(late)
        relay.deliver(try (0..<5).map { _ in try source.next() })
        #expect(late.packets.count == 5)
        #expect(relay.subscriberCount == 1)
    }
}
