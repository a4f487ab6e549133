import ASF
import NIOCore

/// What receives a broadcast on one event loop: a client session of some engine.
public protocol BroadcastSubscriber: AnyObject {
    /// The streams it takes; nil for all.
    var selection: Set<UInt8>? { get }
    /// New packets, in order, filtered to its selection. Runs on the subscriber's loop.
    func receive(_ packets: [StreamPacket])
}

/// A broadcast point's presence on one event loop: the recent packets (from the last clean
/// points, for late joiners) and the sessions on this loop. Runs only on its loop: the point
/// hands it each batch once, and it fans the batch out to its sessions without locks.
public final class BroadcastRelay {
    public let eventLoop: EventLoop
    private let packetSize: Int
    private let videoStreams: Set<UInt8>
    private var ring: [StreamPacket] = []
    private var subscribers: [ObjectIdentifier: BroadcastSubscriber] = [:]
    /// Subscribers that joined before any clean point: they start at the next one.
    private var waiting: [ObjectIdentifier: BroadcastSubscriber] = [:]
    /// Most packets kept when no clean point comes (about a minute at 100 packets a second).
    static let ringLimit = 6000

    init(eventLoop: EventLoop, packetSize: Int, videoStreams: Set<UInt8>) {
        self.eventLoop = eventLoop
        self.packetSize = packetSize
        self.videoStreams = videoStreams
    }

    public var subscriberCount: Int { subscribers.count + waiting.count }

    func deliver(_ batch: [StreamPacket]) {
        ring.append(contentsOf: batch)
        trim()
        // Filtered once per distinct selection in this batch, not once per subscriber.
        var filtered: [Set<UInt8>: [StreamPacket]] = [:]
        for subscriber in subscribers.values {
            subscriber.receive(packets(batch, for: subscriber.selection, cache: &filtered))
        }
        if !waiting.isEmpty, let start = batch.firstIndex(where: \.isCleanPoint) {
            var first = Array(batch[start...])
            if let trimmed = startingAtKeyFrame(first[0]) { first[0] = trimmed }
            for (id, subscriber) in waiting {
                subscribers[id] = subscriber
                subscriber.receive(filter(first, to: subscriber.selection))
            }
            waiting.removeAll()
        }
    }

    private func packets(_ batch: [StreamPacket], for selection: Set<UInt8>?, cache: inout [Set<UInt8>: [StreamPacket]]) -> [StreamPacket] {
        guard let selection else { return batch }
        if let done = cache[selection] { return done }
        let result = filter(batch, to: selection)
        cache[selection] = result
        return result
    }

    /// The packets with only `selection`'s payloads; those with none are left out.
    private func filter(_ packets: [StreamPacket], to selection: Set<UInt8>?) -> [StreamPacket] {
        guard let selection else { return packets }
        let filter = StreamFilter(selection: selection)
        return packets.compactMap { packet in
            guard let parsed = try? DataPacket(parsing: packet.bytes),
                  let kept = try? filter.apply(parsed, original: packet.bytes, packetSize: packetSize) else { return nil }
            var copy = packet
            copy.bytes = kept
            return copy
        }
    }

    /// Keeps the packets from the second-to-last clean point on, so that the last one is whole.
    private func trim() {
        var seen = 0
        var cut = 0
        for i in ring.indices.reversed() where ring[i].isCleanPoint {
            seen += 1
            if seen == 2 { cut = i; break }
        }
        cut = max(cut, ring.count - Self.ringLimit)
        if cut > 0 { ring.removeFirst(cut) }
    }

    /// Adds `subscriber` and returns what it starts with: the packets from the latest clean
    /// point (Advanced Fast Start), the first trimmed so that its first video payload begins
    /// the key frame. With no clean point yet, it gets nothing until the next one.
    public func join(_ subscriber: BroadcastSubscriber) -> [StreamPacket] {
        eventLoop.preconditionInEventLoop()
        guard let start = ring.lastIndex(where: \.isCleanPoint) else {
            waiting[ObjectIdentifier(subscriber)] = subscriber
            return []
        }
        subscribers[ObjectIdentifier(subscriber)] = subscriber
        var packets = Array(ring[start...])
        if let trimmed = startingAtKeyFrame(packets[0]) { packets[0] = trimmed }
        return filter(packets, to: subscriber.selection)
    }

    public func leave(_ subscriber: BroadcastSubscriber) {
        subscribers[ObjectIdentifier(subscriber)] = nil
        waiting[ObjectIdentifier(subscriber)] = nil
    }

    /// The packet without the video payloads that come before its key frame starts.
    private func startingAtKeyFrame(_ live: StreamPacket) -> StreamPacket? {
        guard !videoStreams.isEmpty, let packet = try? DataPacket(parsing: live.bytes),
              let key = packet.payloads.firstIndex(where: { videoStreams.contains($0.streamNumber) && $0.isKeyFrame && $0.startsMediaObject })
        else { return nil }
        let kept = packet.payloads.enumerated().filter { i, p in i >= key || !videoStreams.contains(p.streamNumber) }.map(\.element)
        guard kept.count < packet.payloads.count,
              let rebuilt = try? PacketBuilder.build(payloads: kept, sendTime: packet.sendTime, duration: packet.duration, packetSize: packetSize)
        else { return nil }
        var copy = live
        copy.bytes = rebuilt.bytes
        return copy
    }
}
