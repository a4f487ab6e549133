import ASF
import NIOCore

/// The protocol-independent part of one client's on-demand playback: its source and position,
/// its stream selection, its pacing, and what it has sent. Engines wrap it with their framing.
public struct PlaySession {
    public private(set) var source: any PacketSource
    public private(set) var filter: StreamFilter?
    /// Streams being switched to (MS-WMSP 3.2.5.7), waiting for their first key frame; the
    /// streams they replace go on until then.
    private var switching: (target: Set<UInt8>, waiting: Set<UInt8>)?
    private var packetSize: Int
    public let pacing: Pacing
    public let start: NIODeadline
    private var firstSendTime: UInt32?
    /// An item read but not yet due.
    private var held: (item: Output, due: NIODeadline)?
    public private(set) var packetsSent = 0
    public private(set) var bytesSent = 0

    public enum Output {
        case packet(StreamPacket)
        /// The packets that follow belong to this file's header.
        case header(ASFFile)
    }

    /// - Parameter selection: streams to send, nil for all.
    public init(source: any PacketSource, selection: Set<UInt8>?, pacing: Pacing, start: NIODeadline) {
        self.source = source
        let all = Set(source.file.header.streams.map(\.streamNumber))
        filter = selection.flatMap { $0 == all ? nil : StreamFilter(selection: $0) }
        packetSize = source.file.packetSize
        self.pacing = pacing
        self.start = start
    }

    /// Changes the streams sent (nil: all). A stream added starts at its next key frame, and the
    /// streams it replaces are sent until then (MS-WMSP 3.2.5.7).
    public mutating func select(_ streams: Set<UInt8>?) {
        let all = Set(source.file.header.streams.map(\.streamNumber))
        let target = streams ?? all
        let current = filter?.selection ?? all
        let added = target.subtracting(current)
        if added.isEmpty {
            switching = nil
            filter = target == all ? nil : StreamFilter(selection: target)
        } else {
            switching = (target, added)
            filter = StreamFilter(selection: current)
        }
    }

    /// Skips to the next playlist entry (MS-WMSP PlayNextEntry); what was read ahead is dropped.
    public mutating func skipEntry() {
        held = nil
        source.skipEntry()
    }

    /// Lets in the streams being switched to whose key frame starts in `packet`.
    private mutating func advanceSwitch(_ packet: DataPacket) {
        guard case (let target, var waiting)? = switching else { return }
        for stream in waiting where packet.startsKeyFrame(of: stream) { waiting.remove(stream) }
        if waiting.isEmpty {
            let all = Set(source.file.header.streams.map(\.streamNumber))
            filter = target == all ? nil : StreamFilter(selection: target)
            switching = nil
        } else {
            filter = StreamFilter(selection: (filter?.selection ?? []).union(target.subtracting(waiting)))
            switching = (target, waiting)
        }
    }

    public enum Step {
        /// Items were handed out; call again at the deadline.
        case wait(until: NIODeadline)
        case finished
    }

    /// The packets due at `now`, appended to `due`, for an engine that cannot splice a next
    /// entry with other streams into its stream: such an entry's file is returned, and the
    /// packets due after its header go to `ofNextEntry` (the engine announces the entry first).
    public mutating func collectDue(now: NIODeadline, into due: inout [StreamPacket],
                                    ofNextEntry: inout [StreamPacket]) throws -> (step: Step, nextEntry: ASFFile?) {
        var nextEntry: ASFFile?
        let step = try sendDue(now: now) { output in
            switch output {
            case let .packet(packet) where nextEntry == nil: due.append(packet)
            case let .packet(packet): ofNextEntry.append(packet)
            case let .header(file): nextEntry = nextEntry ?? file
            }
        }
        return (step, nextEntry)
    }

    /// Hands every item due at `now` to `send`, then says what next.
    public mutating func sendDue(now: NIODeadline, _ send: (Output) -> Void) throws -> Step {
        while true {
            if held == nil {
                guard let item = try source.next() else { return .finished }
                switch item {
                case let .header(file):
                    // A new entry with other streams: the selection no longer applies.
                    filter = nil
                    switching = nil
                    packetSize = file.packetSize
                    held = (.header(file), now)
                case var .packet(packet):
                    if filter != nil || switching != nil {
                        let parsed = try DataPacket(parsing: packet.bytes)
                        if switching != nil { advanceSwitch(parsed) }
                        if let filter {
                            guard let kept = try filter.apply(parsed, original: packet.bytes, packetSize: packetSize) else { continue }
                            packet.bytes = kept
                        }
                    }
                    let first = firstSendTime ?? packet.sendTime
                    firstSendTime = first
                    let offset = TimeAmount.milliseconds(Int64(Int32(bitPattern: packet.sendTime &- first)))
                    held = (.packet(packet), start + pacing.delay(forOffset: max(.zero, offset)))
                }
            }
            // In batches: what falls due before the next wake-up goes now.
            guard let (item, due) = held, due <= now + pacing.batch else {
                return .wait(until: max(held!.due - pacing.batch, now + pacing.batch))
            }
            held = nil
            if case let .packet(packet) = item {
                packetsSent += 1
                bytesSent += packet.bytes.readableBytes
            }
            send(item)
        }
    }
}
