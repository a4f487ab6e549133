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

    /// The next packet of a source whose entries share one header.
    static func packet(_ source: inout SplicedSource) throws -> StreamPacket {
        guard case let .packet(packet) = try source.next() else { throw ASFError("test", at: 0, .invalidValue("no packet")) }
        return packet
    }

    @Test func loopedSourceRunsOnOneClockAcrossTheLoop() throws {
        let demo = try Self.file("demo.wmv")
        var source = try SplicedSource(entries: [.init(file: demo)], loops: true)
        var last: StreamPacket?
        var presentations: [UInt32] = []
        for i in 0..<(demo.packetCount * 2 + 5) {
            let packet = try Self.packet(&source)
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

    @Test func entriesWithOtherStreamsAreAnnouncedWithTheirHeader() throws {
        let demo = try Self.file("demo.wmv"), audio = try Self.file("audio.wma"), noindex = try Self.file("noindex.wmv")
        #expect(SplicedSource.compatible(demo, noindex))
        #expect(!SplicedSource.compatible(demo, audio))
        #expect(throws: SplicedSource.Empty.self) { try SplicedSource(entries: [], loops: false) }
        var source = try SplicedSource(entries: [.init(file: demo, clipEnd: 2000), .init(file: noindex, clipEnd: 1000), .init(file: audio)], loops: false)
        var items: [String] = []
        var lastTime: UInt32 = 0
        while let item = try source.next() {
            switch item {
            case let .header(file): items.append(file.path)
            case let .packet(p):
                #expect(p.sendTime >= lastTime)
                lastTime = p.sendTime
            }
        }
        #expect(items == [audio.path], "only the entry with other streams gets a header")
        #expect(lastTime > 20_000 && lastTime < 24_000, "2 s + 1 s of clips, then the 20 s audio file: \(lastTime)")
        #expect(try source.next() == nil, "an ended source stays ended")
    }

    final class Collector: BroadcastSubscriber {
        var selection: Set<UInt8>?
        var packets: [StreamPacket] = []
        var ended = false
        init(selection: Set<UInt8>? = nil) { self.selection = selection }
        func receive(_ batch: BroadcastBatch) { packets += batch.packets }
        func broadcastEnded() { ended = true }
    }

    /// An encoder's point: players join while it pushes, get its packets in real time, and the
    /// end of the stream when it ends; after that there is nothing to join.
    @Test func aLivePointPlaysWhatTheEncoderPushesThenEnds() throws {
        let loop = EmbeddedEventLoop()
        let demo = try Self.file("demo.wmv")
        let live = LivePoint(name: "live", home: PacingScheduler(eventLoop: loop), loops: [loop], batchInterval: .zero,
                             logger: .init(label: "test"))
        #expect(live.broadcast == nil)
        let feed = live.begin(header: demo.header)
        let broadcast = try #require(live.broadcast)
        #expect(broadcast.header.fileProperties.flags.contains(.broadcast))
        let packets = try demo.readPackets(0..<50)
        for packet in packets { try feed.append(packet) }
        let player = Collector()
        loop.advanceTime(by: .milliseconds(1))
        player.packets += broadcast.relay(on: loop).join(player).packets
        let span = try DataPacket.sendTime(of: packets[49]) - DataPacket.sendTime(of: packets[0])
        loop.advanceTime(by: .milliseconds(Int64(span) + 20))
        #expect(player.packets.last?.sendTime == (try DataPacket.sendTime(of: packets[49])))
        #expect(!player.ended)
        live.end(feed)
        #expect(live.broadcast == nil)
        loop.advanceTime(by: .milliseconds(20))
        #expect(player.ended)
    }

    /// A point whose loop stalled (the server stopped for 5 s) goes on from where it was: its
    /// players get the next packet now and the rest at their pace, not the missed 5 s at once.
    @Test func aStalledPointGoesOnFromWhereItWasInsteadOfCatchingUp() throws {
        let loop = EmbeddedEventLoop()
        let demo = try Self.file("demo.wmv")
        let point = BroadcastPoint(name: "live", source: try SplicedSource(entries: [.init(file: demo)], loops: true),
                                   home: PacingScheduler(eventLoop: loop), logger: .init(label: "test"))
        let relay = point.relay(on: loop)
        let start = loop.now
        var next = try #require(point.pump(now: start))
        let player = Collector()
        player.packets += relay.join(player).packets
        #expect(!player.packets.isEmpty)
        while next < start + .seconds(1) { next = try #require(point.pump(now: next)) }
        let before = player.packets.count
        let resumed = next + .seconds(5)
        next = try #require(point.pump(now: resumed))
        let afterStall = player.packets[before...]
        #expect(!afterStall.isEmpty)
        #expect(afterStall.last!.sendTime - afterStall.first!.sendTime < 100, "the packets due at the stall, not 5 s of them")
        #expect(next > resumed && next < resumed + .seconds(1), "the next packet at its spacing from now")
        // Then the point runs in real time again: a second of it in about a second.
        let sendTime = player.packets.last!.sendTime
        while next < resumed + .seconds(1) { next = try #require(point.pump(now: next)) }
        let played = player.packets.last!.sendTime - sendTime
        #expect(played > 800 && played < 1200, "\(played) ms of content in a second")
    }

    @Test func lateJoinerStartsAtTheLatestKeyFrameAndEarlyJoinerWaitsForOne() throws {
        let loop = EmbeddedEventLoop()
        let demo = try Self.file("demo.wmv")
        var source = try SplicedSource(entries: [.init(file: demo)], loops: true)
        let relay = BroadcastRelay(eventLoop: loop, packetSize: demo.packetSize, videoStreams: [1])
        let early = Collector()
        // The first packet of the file is a clean point: drop it so the relay starts mid-GOP.
        _ = try Self.packet(&source)
        #expect(relay.join(early).packets.isEmpty)
        let batch = try (0..<40).map { _ in try Self.packet(&source) }
        relay.deliver(batch)
        let late = Collector()
        let burst = relay.join(late).packets
        #expect(!burst.isEmpty)
        for start in [burst.first!, early.packets.first!] {
            let packet = try DataPacket(parsing: start.bytes)
            let firstVideo = try #require(packet.payloads.first { $0.streamNumber == 1 })
            #expect(firstVideo.isKeyFrame && firstVideo.startsMediaObject)
        }
        relay.deliver(try (0..<5).map { _ in try Self.packet(&source) })
        #expect(late.packets.count == 5)
        relay.leave(late)
        relay.deliver(try (0..<5).map { _ in try Self.packet(&source) })
        #expect(late.packets.count == 5)
        #expect(relay.subscriberCount == 1)
        // A subscriber that takes only audio gets only audio payloads.
        let audio = Collector(selection: [2])
        _ = relay.join(audio)
        relay.deliver(try (0..<30).map { _ in try Self.packet(&source) })
        #expect(!audio.packets.isEmpty)
        for packet in audio.packets { #expect(try DataPacket(parsing: packet.bytes).streamNumbers == [2]) }
    }

    /// When the point delivers ahead of real time (turns of a set length), the last `turns`
    /// deliveries are still to come: a joiner starts at the latest clean point before them, and
    /// gets every packet from there on.
    @Test func joinerStartsAtTheLatestCleanPointNotAheadOfRealTime() throws {
        let loop = EmbeddedEventLoop()
        let demo = try Self.file("demo.wmv")
        var source = try SplicedSource(entries: [.init(file: demo)], loops: true)
        let relay = BroadcastRelay(eventLoop: loop, packetSize: demo.packetSize, videoStreams: [1], turns: 2,
                                   turnLength: .milliseconds(100))
        var deliveries: [[StreamPacket]] = []
        repeat {
            deliveries.append(try (0..<10).map { _ in try Self.packet(&source) })
            relay.deliver(deliveries.last!)
        } while !deliveries.suffix(2).joined().contains(where: \.isCleanPoint) || !deliveries.dropLast(2).joined().contains(where: \.isCleanPoint)
        let past = Array(deliveries.dropLast(2).joined())
        let start = try #require(past.lastIndex { $0.isCleanPoint })
        let burst = relay.join(Collector()).packets
        #expect(burst.first?.sendTime == past[start].sendTime)
        #expect(burst.count == past.count - start + deliveries.suffix(2).joined().count)
    }

    /// Joiners between two deliveries share one burst per selection, which the engines frame
    /// once for all of them; a delivery starts a new one.
    @Test func joinersBetweenDeliveriesShareTheirBurst() throws {
        let loop = EmbeddedEventLoop()
        let demo = try Self.file("demo.wmv")
        var source = try SplicedSource(entries: [.init(file: demo)], loops: true)
        let relay = BroadcastRelay(eventLoop: loop, packetSize: demo.packetSize, videoStreams: [1])
        relay.deliver(try (0..<40).map { _ in try Self.packet(&source) })
        let (first, second, audio) = (relay.join(Collector()), relay.join(Collector()), relay.join(Collector(selection: [2])))
        #expect(!first.packets.isEmpty && first === second)
        #expect(audio !== first && audio.packets.allSatisfy { (try? DataPacket(parsing: $0.bytes).streamNumbers) == [2] })
        let next = try (0..<5).map { _ in try Self.packet(&source) }
        relay.deliver(next)
        let third = relay.join(Collector())
        #expect(third !== first && third.packets.last?.sendTime == next.last?.sendTime)
    }

    /// A relay of one 100 ms turn that has delivered demo.wmv's first packet (a clean point),
    /// `count` members joined, and the source to go on from.
    static func slicedRelay(members count: Int) throws -> (EmbeddedEventLoop, BroadcastRelay, [Collector], SplicedSource) {
        let loop = EmbeddedEventLoop()
        let demo = try file("demo.wmv")
        var source = try SplicedSource(entries: [.init(file: demo)], loops: true)
        let relay = BroadcastRelay(eventLoop: loop, packetSize: demo.packetSize, videoStreams: [1], turns: 1,
                                   turnLength: .milliseconds(100))
        relay.deliver([try packet(&source)])
        let members = (0..<count).map { _ in Collector() }
        for member in members { _ = relay.join(member) }
        return (loop, relay, members, source)
    }

    /// A turn's writes go a slice of sessions at a time, spread over 80 % of the turn: 200
    /// sessions in 4 slices 20 ms apart in a 100 ms turn; a session that leaves before its slice
    /// gets nothing.
    @Test func aTurnsWritesAreSpreadOverTheTurnInSlices() throws {
        let (loop, relay, members, rest) = try Self.slicedRelay(members: 200)
        var source = rest
        let before = members.map(\.packets.count)
        func served() -> [Int] { members.indices.filter { members[$0].packets.count > before[$0] } }
        relay.deliver([try Self.packet(&source)])
        var counts = [served().count]
        loop.advanceTime(by: .milliseconds(20))
        counts.append(served().count)
        // One still waiting leaves.
        let leaver = try #require(members.indices.first { !served().contains($0) })
        relay.leave(members[leaver])
        for _ in 0..<3 {
            loop.advanceTime(by: .milliseconds(20))
            counts.append(served().count)
        }
        // The third slice holds 64 sessions, or 63 when the one that left was among them.
        #expect(counts.prefix(2) == [64, 128] && (191...192).contains(counts[2]) && counts.suffix(2) == [199, 199], "\(counts)")
        #expect(!served().contains(leaver))
    }

    /// A slice holds at most about 1 MiB of writes: with batches of a quarter MiB and more,
    /// fewer than four sessions are written to at once.
    @Test func largeBatchesMakeSmallerSlices() throws {
        let (loop, relay, members, rest) = try Self.slicedRelay(members: 20)
        var source = rest
        let before = members.map(\.packets.count)
        var batch: [StreamPacket] = []
        while batch.reduce(0, { $0 + $1.bytes.readableBytes }) < 1 << 18 { batch.append(try Self.packet(&source)) }
        let size = (1 << 20) / batch.reduce(0) { $0 + $1.bytes.readableBytes }
        relay.deliver(batch)
        #expect((1...3).contains(size))
        #expect(members.indices.filter { members[$0].packets.count > before[$0] }.count == size)
        loop.advanceTime(by: .milliseconds(80))
        #expect(members.indices.allSatisfy { members[$0].packets.count == before[$0] + batch.count })
    }

    /// Sessions take turns: with 3 turns, each session gets the packets of 3 deliveries at once,
    /// every packet exactly once and in order; sessions in different groups write on different
    /// deliveries; those of one group and selection share one batch, framed once.
    @Test func sessionsTakeTurnsAndShareTheirGroupsBatch() throws {
        let loop = EmbeddedEventLoop()
        let demo = try Self.file("demo.wmv")
        var source = try SplicedSource(entries: [.init(file: demo)], loops: true)
        let relay = BroadcastRelay(eventLoop: loop, packetSize: demo.packetSize, videoStreams: [1], turns: 3)
        relay.deliver([try Self.packet(&source)])  // the file's first packet: a clean point
        final class Counter: BroadcastSubscriber {
            var selection: Set<UInt8>? { nil }
            var batches: [BroadcastBatch] = []
            var packets: [StreamPacket] = []
            func receive(_ batch: BroadcastBatch) {
                batches.append(batch)
                packets += batch.packets
            }
            func broadcastEnded() {}
        }
        let members = (0..<6).map { _ in Counter() }
        for member in members { #expect(!relay.join(member).packets.isEmpty) }
        var sent: [StreamPacket] = []
        var writers: [Set<Int>] = []
        for _ in 0..<9 {
            let delivery = try (0..<2).map { _ in try Self.packet(&source) }
            sent += delivery
            let before = members.map(\.batches.count)
            relay.deliver(delivery)
            writers.append(Set(members.indices.filter { members[$0].batches.count > before[$0] }))
        }
        for (i, member) in members.enumerated() {
            // The deliveries since its group's last turn are still to come: at most two.
            let received = member.packets.map(\.locationID)
            #expect(received == Array(sent.map(\.locationID).prefix(received.count)) && received.count >= sent.count - 4,
                    "session \(i): every packet delivered since it joined, once, in order")
            #expect(member.batches.count == 3, "a write per 3 deliveries")
        }
        #expect(writers.allSatisfy { $0.count == 2 }, "two of six sessions per delivery: \(writers)")
        // Members 0 and 3 share a group: the same batches, and a framing built once.
        #expect(zip(members[0].batches, members[3].batches).allSatisfy { $0 === $1 })
        var builds = 0
        for member in [members[0], members[3]] {
            _ = member.batches[1].shared(for: Counter.self, variant: 7) { _ in
                builds += 1
                return ByteBuffer()
            }
        }
        #expect(builds == 1)
    }
}
