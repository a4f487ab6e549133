import ASF
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// An encoder's packets on their way to a broadcast point: the ingest (on its connection's loop)
/// appends them, the point (on its home loop) takes them as they fall due. Packets come as
/// encoders send them: without their padding (MS-WMHTTP 2.2.3: Padding Length 0, Packet Length
/// untouched); each is padded to the header's packet size again, Padding Length rewritten, so
/// that every engine sends it as a stored one. An encoder that starts again with the same streams
/// (a reconnect, a restart) goes on on the same clock: its times are moved to follow on.
public final class LiveFeed: BroadcastSource, @unchecked Sendable {
    public let header: ASFHeader
    public let packetSize: Int
    private let videoStreams: Set<UInt8>
    private let logger: Logger
    private let state = NIOLockedValueBox(State())

    /// Most packets held for the point (a minute at 100 packets a second): an encoder pushing
    /// faster than real time loses its oldest packets beyond them.
    static let queueLimit = 6000

    private struct State {
        var queue: [StreamPacket] = []
        var head = 0
        var finished = false
        var nextLocation: UInt32 = 0
        /// Added to the encoder's times; recomputed at the first packet after a restart.
        var shift: UInt32 = 0
        var shiftKnown = true
        var end: UInt32 = 0
        var dropped = 0
        var unreadable = 0
    }

    /// The packets that do not parse or fit, and those dropped for an encoder far ahead.
    public struct Counts: Sendable, Equatable {
        public var unreadable: Int
        public var dropped: Int
    }

    public init(header: ASFHeader, logger: Logger) {
        self.header = header
        packetSize = Int(header.fileProperties.maximumPacketSize)
        videoStreams = Set(header.streams.filter { $0.kind == .video }.map(\.streamNumber))
        self.logger = logger
    }

    /// Whether packets of `other` can follow these on the same broadcast: the same streams and
    /// packet size, as for playlist entries.
    public func continues(with other: ASFHeader) -> Bool {
        SplicedSource.compatible(header, other)
    }

    /// The next packets come from an encoder that started again: they follow the last one on.
    public func restart() {
        state.withLockedValue { $0.shiftKnown = false }
    }

    /// One ASF packet from the encoder. Throws `Unreadable` for one that does not parse or is
    /// longer than the packet size; the feed goes on.
    public func append(_ bytes: ByteBuffer) throws {
        var packet: DataPacket
        do {
            packet = try DataPacket(parsing: bytes)
        } catch {
            state.withLockedValue { $0.unreadable += 1 }
            throw Unreadable(description: "a data packet does not parse: \(error)")
        }
        let shift = state.withLockedValue { s -> UInt32 in
            if !s.shiftKnown {
                s.shift = s.end &+ 1 &- packet.sendTime
                s.shiftKnown = true
            }
            return s.shift
        }
        if shift != 0 { packet = packet.shifted(by: shift) }
        let stored: ByteBuffer
        if bytes.readableBytes == packetSize, packet.departures.isEmpty {
            // Whole already: as it came, or with its times moved (the same size).
            if shift == 0 {
                stored = bytes
            } else {
                var moved = ByteBuffer()
                moved.reserveCapacity(packetSize)
                packet.write(to: &moved)
                stored = moved
            }
        } else if bytes.readableBytes <= packetSize, let padded = packet.padded(to: packetSize) {
            stored = padded
        } else {
            state.withLockedValue { $0.unreadable += 1 }
            throw Unreadable(description: "a data packet of \(bytes.readableBytes) bytes is over the packet size \(packetSize)")
        }
        let clean = videoStreams.isEmpty || videoStreams.contains(where: packet.startsKeyFrame(of:))
        let firstDrop = state.withLockedValue { s -> Bool in
            s.queue.append(StreamPacket(locationID: s.nextLocation, bytes: stored, sendTime: packet.sendTime, isCleanPoint: clean))
            s.nextLocation &+= 1
            s.end = max(s.end, packet.sendTime &+ UInt32(packet.duration))
            guard s.queue.count - s.head > Self.queueLimit else { return false }
            s.head += 1
            s.dropped += 1
            return s.dropped == 1
        }
        if firstDrop { logger.warning("the encoder is over \(Self.queueLimit) packets ahead of real time: its oldest packets are dropped") }
    }

    /// The encoder's end: the point plays what it holds, then ends.
    public func finish() {
        state.withLockedValue { $0.finished = true }
    }

    public var isFinished: Bool { state.withLockedValue(\.finished) }

    public var counts: Counts {
        state.withLockedValue { Counts(unreadable: $0.unreadable, dropped: $0.dropped) }
    }

    public func next() -> BroadcastItem {
        state.withLockedValue { s in
            guard s.head < s.queue.count else { return s.finished ? .ended : .later }
            let packet = s.queue[s.head]
            s.head += 1
            // Compacted once the taken part is as large as what is left.
            if s.head >= 1024, s.head * 2 >= s.queue.count {
                s.queue.removeFirst(s.head)
                s.head = 0
            }
            return .packet(packet)
        }
    }

    public struct Unreadable: Error, CustomStringConvertible {
        public var description: String
    }
}
