import ASF
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// A broadcast publishing point: one live source shared by every client. The source runs in
/// real time on the point's home loop; each batch of packets goes once to every loop that has
/// clients, where a `BroadcastRelay` fans it out (DESIGN.md: one cursor per loop, no per-packet locks).
public final class BroadcastPoint: PacedSession, @unchecked Sendable {
    public let name: String
    /// The header every client gets: broadcast flag set, sizes unknown (ASF spec 3.2).
    public let header: ASFHeader
    /// Header Object plus the Data Object start, as MS-WMSP and MS-MMSP send it.
    public let streamingHeader: ByteBuffer
    public let packetSize: Int
    /// How often each client gets the packets: in one write, those that fall due before its
    /// next (sent up to this much early, never late), so a session costs a write per interval,
    /// not per packet. The relays' groups take turns within the interval (`BroadcastRelay`).
    public let batchInterval: TimeAmount
    /// Turns per batch interval: the point delivers ahead by the interval, once per turn.
    private let turns: Int
    private let home: PacingScheduler
    private let logger: Logger
    private let videoStreams: Set<UInt8>
    // Home loop only.
    private var source: any BroadcastSource
    private var clockStart: NIODeadline?
    private var firstSendTime: UInt32 = 0
    private var held: StreamPacket?
    // Any thread, at join time only.
    private let relays = NIOLockedValueBox<[ObjectIdentifier: BroadcastRelay]>([:])
    private let started = NIOLockedValueBox(false)

    /// Files and playlists, played as a looped `SplicedSource`.
    public convenience init(name: String, source: any PacketSource, home: PacingScheduler, batchInterval: TimeAmount = .zero, logger: Logger) {
        self.init(name: name, header: source.file.header, packetSize: source.file.packetSize, source: LoopedFiles(source),
                  home: home, batchInterval: batchInterval, logger: logger)
    }

    /// - Parameters:
    ///   - header: the content's header; clients get it as a broadcast's.
    ///   - source: what the point plays: looped files, or an encoder's `LiveFeed`.
    public init(name: String, header: ASFHeader, packetSize: Int, source: any BroadcastSource, home: PacingScheduler,
                batchInterval: TimeAmount = .zero, logger: Logger) {
        self.name = name
        self.batchInterval = batchInterval
        turns = batchInterval > .zero ? 5 : 1
        self.source = source
        self.header = header.broadcast()
        self.packetSize = packetSize
        streamingHeader = Self.streamingHeader(of: header)
        videoStreams = Set(header.streams.filter { $0.kind == .video }.map(\.streamNumber))
        self.home = home
        self.logger = logger
    }

    /// Starts the source (once; later calls do nothing).
    public func start() {
        let first = started.withLockedValue { started in
            defer { started = true }
            return !started
        }
        guard first else { return }
        home.eventLoop.execute {
            self.logger.info("broadcast \(self.name) started")
            self.home.schedule(self, at: self.home.eventLoop.now)
        }
    }

    /// Ends the broadcast for good (its point was removed by a reload): the source stops, and
    /// every player gets the end of the stream.
    public func stop() {
        home.eventLoop.execute {
            self.home.cancel(self)
            self.logger.info("broadcast \(self.name) stopped")
            self.end(after: [])
        }
    }

    /// What a broadcast of `header` sends as its header: the Header Object, and the Data
    /// Object's start with its size and packet count unknown (MS-WMSP 2.2.3.1.1), which players
    /// read to the end of the stream.
    public static func streamingHeader(of header: ASFHeader) -> ByteBuffer {
        let data = DataObjectHeader(objectSize: 0, fileID: header.fileProperties.fileID, totalDataPackets: 0)
        return header.streamingHeader(dataObject: data)
    }

    /// The loop its source runs on.
    public var homeLoop: EventLoop { home.eventLoop }

    /// This point's relay on `loop`, created on first use.
    public func relay(on loop: EventLoop) -> BroadcastRelay {
        relays.withLockedValue { relays in
            if let relay = relays[ObjectIdentifier(loop)] { return relay }
            let relay = BroadcastRelay(eventLoop: loop, packetSize: packetSize, videoStreams: videoStreams, turns: turns,
                                       turnLength: .nanoseconds(batchInterval.nanoseconds / Int64(turns)))
            relays[ObjectIdentifier(loop)] = relay
            return relay
        }
    }

    public func pump(now: NIODeadline) -> NIODeadline? {
        var batch = [StreamPacket]()
        let turn = TimeAmount.nanoseconds(batchInterval.nanoseconds / Int64(turns))
        do {
            while true {
                let item = try held.map(BroadcastItem.packet) ?? source.next()
                held = nil
                let packet: StreamPacket
                switch item {
                case let .packet(next):
                    packet = next
                case .later:
                    // A live source between packets: ask again at the next turn.
                    distribute(batch, evenIfEmpty: turns > 1)
                    return now + (turns > 1 ? turn : Self.liveWait)
                case .ended:
                    logger.info("broadcast \(name) ended")
                    end(after: batch)
                    return nil
                }
                if clockStart == nil {
                    clockStart = now
                    firstSendTime = packet.sendTime
                }
                var due = clockStart! + .milliseconds(Int64(packet.sendTime &- firstSendTime))
                // Overdue by more than a stall allows (the server was stopped or starved, or the
                // encoder came back after a pause): the clock moves on by the time lost and the
                // point goes on from here. Caught up instead, every player would get the missed
                // seconds at once: for 5,000 players of a 5 s stop, a burst of copies and writes
                // that raised the server's memory by a third for good (RELIABILITY.md).
                if now - due > Self.stallLimit {
                    let behind = now - due
                    clockStart = clockStart! + behind
                    due = now
                    logger.notice("broadcast \(name) was \(Double(behind.nanoseconds / 1_000_000) / 1000) s behind its clock (the server stalled, or its source paused): it goes on from here")
                }
                // Batched: delivered an interval ahead, once per turn, with or without packets
                // (the relays' groups take their turns by deliveries, each holding a packet for
                // up to an interval). Else each packet as it falls due.
                guard due <= now + batchInterval else {
                    held = packet
                    if turns > 1 {
                        distribute(batch, evenIfEmpty: true)
                        return now + turn
                    }
                    distribute(batch)
                    return due
                }
                batch.append(packet)
            }
        } catch {
            logger.error("broadcast \(name) stopped: \(error)")
            end(after: batch)
            return nil
        }
    }

    /// The most a packet may be overdue and still be sent to catch up: players' buffers hold
    /// a few seconds, and a busy loop is late by milliseconds.
    static let stallLimit = TimeAmount.seconds(2)

    /// How often an unbatched live point looks for its encoder's next packets.
    static let liveWait = TimeAmount.milliseconds(10)

    /// The last packets, then the end of the stream for every player.
    private func end(after batch: [StreamPacket]) {
        distribute(batch)
        for relay in relays.withLockedValue({ Array($0.values) }) {
            relay.eventLoop.execute { relay.end() }
        }
    }

    private func distribute(_ batch: [StreamPacket], evenIfEmpty: Bool = false) {
        guard !batch.isEmpty || evenIfEmpty else { return }
        for relay in relays.withLockedValue({ Array($0.values) }) {
            if relay.eventLoop.inEventLoop {
                relay.deliver(batch)
            } else {
                relay.eventLoop.execute { relay.deliver(batch) }
            }
        }
    }
}
