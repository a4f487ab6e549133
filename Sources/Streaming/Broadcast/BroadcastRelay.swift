import ASF
import NIOCore

/// What receives a broadcast on one event loop: a client session of some engine.
public protocol BroadcastSubscriber: AnyObject {
    /// The streams it takes; nil for all.
    var selection: Set<UInt8>? { get }
    /// New packets, in order, filtered to its selection; the batch is shared with the other
    /// subscribers of that selection. Runs on the subscriber's loop.
    func receive(_ batch: BroadcastBatch)
    /// The broadcast ended (its encoder stopped or vanished): the subscriber ends its client's
    /// stream as its protocol does, and is no longer a member. Runs on the subscriber's loop.
    func broadcastEnded()
}

/// A broadcast point's presence on one event loop: the recent packets (from the last clean
/// points, for late joiners) and the sessions on this loop. Runs only on its loop: the point
/// hands it each delivery once, and it fans the packets out to its sessions without locks.
///
/// Sessions take turns: they are spread over `turns` groups, and at each delivery one group
/// gets the packets of the last `turns` deliveries in one batch. So each session writes once
/// per `turns` deliveries, and the writes of a loop are spread evenly over time instead of
/// all falling on one delivery. Within a turn, the group's sessions are written to a slice at a
/// time (at most 64 sessions and about 1 MiB), the slices spread over most of the turn: the
/// loop is free between them (a client that joins waits for one slice's writes, not a group's),
/// and the receivers get an even flow.
public final class BroadcastRelay {
    public let eventLoop: EventLoop
    private let packetSize: Int
    private let videoStreams: Set<UInt8>
    public let turns: Int
    /// The time between deliveries.
    private let turnLength: TimeAmount
    private var ring: [StreamPacket] = []
    /// The last `turns` deliveries, oldest first, and how many there have been.
    private var recent: [[StreamPacket]] = []
    private var delivered = 0
    private var groups: [[ObjectIdentifier: BroadcastSubscriber]]
    private var nextGroup = 0
    /// Sessions that joined since their group's last turn: the deliveries they had at joining.
    private var joinedAt: [ObjectIdentifier: Int] = [:]
    /// Subscribers that joined before any clean point: they start at the next one.
    private var waiting: [ObjectIdentifier: BroadcastSubscriber] = [:]
    /// What joiners start with, by selection, until the next delivery: the joiners of a ramp
    /// share it, and the engines frame it once for them (`BroadcastBatch.shared`).
    private var joinBursts: [Set<UInt8>?: BroadcastBatch] = [:]
    /// Most packets kept when no clean point comes (about a minute at 100 packets a second).
    static let ringLimit = 6000
    /// Most sessions written to at once, and most bytes: 64 sessions of 1 s batches at 400 kbit/s
    /// would hold the loop for milliseconds, and a client joining waits for a slice.
    static let sliceSize = 64
    static let sliceBytes = 1 << 20

    /// A batch of the packets after delivery `since`, filtered to `selection`.
    private struct Window: Hashable {
        var since: Int
        var selection: Set<UInt8>?
    }

    init(eventLoop: EventLoop, packetSize: Int, videoStreams: Set<UInt8>, turns: Int = 1, turnLength: TimeAmount = .zero) {
        precondition(turns >= 1)
        self.eventLoop = eventLoop
        self.packetSize = packetSize
        self.videoStreams = videoStreams
        self.turns = turns
        self.turnLength = turnLength
        groups = Array(repeating: [:], count: turns)
    }

    public var subscriberCount: Int { groups.reduce(waiting.count) { $0 + $1.count } }

    func deliver(_ batch: [StreamPacket]) {
        ring.append(contentsOf: batch)
        delivered += 1
        joinBursts.removeAll()
        recent.append(batch)
        if recent.count > turns { recent.removeFirst() }
        trim()
        // This turn's group: filtered, and framed by the engines, once per distinct window and
        // selection, not once per subscriber.
        var windows: [Window: BroadcastBatch] = [:]
        var turn: [(BroadcastSubscriber, BroadcastBatch)] = []
        var largest = 1
        let group = delivered % turns
        for (id, subscriber) in groups[group] {
            let since = max(joinedAt.removeValue(forKey: id) ?? 0, delivered - turns)
            guard since < delivered else { continue }
            let window = Window(since: since, selection: subscriber.selection)
            let shared = windows[window] ?? {
                let made = BroadcastBatch(filter(recent.suffix(delivered - since).flatMap { $0 }, to: window.selection))
                largest = max(largest, made.packets.reduce(0) { $0 + $1.bytes.readableBytes })
                return made
            }()
            windows[window] = shared
            if !shared.packets.isEmpty { turn.append((subscriber, shared)) }
        }
        // The slices go out over the first 80 % of the turn: the packets of a turn's batch fall
        // due from the next turn on, so none goes out late.
        let size = min(Self.sliceSize, max(1, Self.sliceBytes / largest))
        let slices = (turn.count + size - 1) / size
        hand(turn[...], group: group, size: size,
             spacing: slices > 1 ? .nanoseconds(turnLength.nanoseconds * 4 / 5 / Int64(slices)) : .zero)
        if !waiting.isEmpty, let start = batch.firstIndex(where: \.isCleanPoint) {
            var first = Array(batch[start...])
            if let trimmed = startingAtKeyFrame(first[0]) { first[0] = trimmed }
            for subscriber in waiting.values {
                add(subscriber)
                subscriber.receive(BroadcastBatch(filter(first, to: subscriber.selection)))
            }
            waiting.removeAll()
        }
    }

    /// Hands a turn's batches out `size` sessions at a time, `spacing` apart, to the sessions
    /// still in the group.
    private func hand(_ turn: ArraySlice<(BroadcastSubscriber, BroadcastBatch)>, group: Int, size: Int, spacing: TimeAmount) {
        for (subscriber, batch) in turn.prefix(size) where groups[group][ObjectIdentifier(subscriber)] != nil {
            subscriber.receive(batch)
        }
        let rest = turn.dropFirst(size)
        guard !rest.isEmpty else { return }
        eventLoop.scheduleTask(in: spacing) { self.hand(rest, group: group, size: size, spacing: spacing) }
    }

    /// A member from the current delivery on, in the next group.
    private func add(_ subscriber: BroadcastSubscriber) {
        let id = ObjectIdentifier(subscriber)
        groups[nextGroup][id] = subscriber
        nextGroup = (nextGroup + 1) % turns
        joinedAt[id] = delivered
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

    /// Keeps the packets from where a joiner starts on.
    private func trim() {
        let cut = max(joinStart ?? 0, ring.count - Self.ringLimit)
        if cut > 0 { ring.removeFirst(cut) }
    }

    /// Where a joiner starts: the latest clean point that is not ahead of real time, else the
    /// earliest one. When the point delivers ahead (turns of a set length), the last `turns`
    /// deliveries are still to come in real time; a joiner whose first packet came from them
    /// would play its next turn's packets late.
    private var joinStart: Int? {
        let ahead = turnLength > .zero ? recent.reduce(0) { $0 + $1.count } : 0
        return ring[..<max(0, ring.count - ahead)].lastIndex(where: \.isCleanPoint) ?? ring.firstIndex(where: \.isCleanPoint)
    }

    /// Adds `subscriber` and returns what it starts with: the packets from the latest clean
    /// point (Advanced Fast Start, `joinStart`), the first trimmed so that its first video
    /// payload begins the key frame; the same batch for every joiner of a selection until the
    /// next delivery. With no clean point yet, it gets nothing until the next one.
    public func join(_ subscriber: BroadcastSubscriber) -> BroadcastBatch {
        eventLoop.preconditionInEventLoop()
        guard let start = joinStart else {
            waiting[ObjectIdentifier(subscriber)] = subscriber
            return BroadcastBatch([])
        }
        add(subscriber)
        if let burst = joinBursts[subscriber.selection] { return burst }
        var packets = Array(ring[start...])
        if let trimmed = startingAtKeyFrame(packets[0]) { packets[0] = trimmed }
        let burst = BroadcastBatch(filter(packets, to: subscriber.selection))
        joinBursts[subscriber.selection] = burst
        return burst
    }

    /// The broadcast is over: every member hears so, and the relay forgets them.
    func end() {
        // Each group has had the packets up to its last turn: the deliveries since come first.
        for (g, group) in groups.enumerated() {
            let lastTurn = delivered - ((delivered - g) % turns + turns) % turns
            for (id, subscriber) in group {
                let since = max(joinedAt[id] ?? 0, lastTurn, delivered - recent.count)
                guard since < delivered else { continue }
                let rest = filter(recent.suffix(delivered - since).flatMap { $0 }, to: subscriber.selection)
                if !rest.isEmpty { subscriber.receive(BroadcastBatch(rest)) }
            }
        }
        let members = groups.flatMap(\.values) + Array(waiting.values)
        for g in groups.indices { groups[g].removeAll() }
        waiting.removeAll()
        joinedAt.removeAll()
        ring.removeAll()
        recent.removeAll()
        joinBursts.removeAll()
        for subscriber in members { subscriber.broadcastEnded() }
    }

    public func leave(_ subscriber: BroadcastSubscriber) {
        let id = ObjectIdentifier(subscriber)
        for g in groups.indices { groups[g][id] = nil }
        joinedAt[id] = nil
        waiting[id] = nil
    }

    /// The packet without the video payloads that come before its key frame starts.
    private func startingAtKeyFrame(_ live: StreamPacket) -> StreamPacket? {
        guard let packet = try? DataPacket(parsing: live.bytes),
              let rebuilt = packet.startingAtKeyFrame(of: videoStreams, packetSize: packetSize) else { return nil }
        var copy = live
        copy.bytes = rebuilt.bytes
        return copy
    }
}
