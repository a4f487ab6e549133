import ASF
import NIOCore

/// What a tuner makes of the datagrams on a group (MS-MSB 3.2.5): beacons noted, packets of
/// the `.nsc`'s Formats kept and those of other IDs ignored (3.2.5.2), each FEC span held until
/// its parity or the next span arrives, one lost packet of a span rebuilt from the rest
/// (3.2.5.3), and the ASF packets handed out in order, re-padded to their header's packet
/// size and their error correction data zeroed, as a file holds them. Output starts at the
/// first packet where a video key frame begins, so that a decoder's first frame is one. A
/// plain value: the tuner owns the socket.
public struct MSBReceiver {
    public struct Statistics: Sendable, Equatable {
        public var datagrams = 0
        public var beacons = 0
        /// Data packets received, of a known Format.
        public var packets = 0
        public var parityPackets = 0
        public var recovered = 0
        /// Data packets never received nor rebuilt (gaps in dwPacketID).
        public var lost = 0
        public var unknownFormat = 0
        public var malformed = 0
        public var entryChanges = 0
    }

    public enum Event: Equatable {
        /// The first beacon or known packet: the group is alive (3.2.2's Open timer stops).
        case alive
        /// An ASF packet for the output, in order.
        case packet(ByteBuffer)
        /// A packet of another known Format than the output's header: a playlist moved to
        /// other streams, which one ASF stream cannot carry.
        case formatChanged(UInt16)
        /// A datagram that is neither a beacon nor an MSB packet; dropped (5.1).
        case malformed(String)
    }

    /// What the receiver knows of each Format: its packet size and its video streams.
    public struct Format: Sendable {
        public var packetSize: Int
        public var videoStreams: Set<UInt8>

        public init(packetSize: Int, videoStreams: Set<UInt8>) {
            self.packetSize = packetSize
            self.videoStreams = videoStreams
        }
    }

    public private(set) var statistics = Statistics()
    private let formats: [UInt16: Format]
    /// The Format the output follows: the first one a packet brings.
    public private(set) var formatID: UInt16?
    /// Packets under a Format the `.nsc` does not list since the last known one, and the last
    /// such Format: a new header the receiver's `.nsc` is older than.
    public private(set) var unknownSinceKnown = 0
    public private(set) var lastUnknownFormat: UInt16?
    private var entryToggle: Bool?
    private var alive = false
    /// Whether the output has begun (at the first packet of the output's Format where a video
    /// key frame starts, or its first packet without video).
    private var started = false
    private var lastID: UInt32?
    /// The open FEC span: its cycle, its data packets by Number, and the parity once it came.
    private var spanCycle: UInt8?
    private var span: [Int: (id: UInt32, bytes: ByteBuffer)] = [:]
    private var spanParity: ByteBuffer?

    /// - Parameter formats: the `.nsc`'s Formats, by ID.
    public init(formats: [UInt16: Format]) {
        self.formats = formats
    }

    public mutating func receive(_ datagram: ByteBuffer) -> [Event] {
        statistics.datagrams += 1
        var events: [Event] = []
        let parsed: MSBDatagram
        do {
            parsed = try MSBDatagram(parsing: datagram)
        } catch {
            statistics.malformed += 1
            return [.malformed("\(error)")]
        }
        switch parsed {
        case .beacon:
            statistics.beacons += 1
            markAlive(&events)
        case let .packet(packet):
            guard formats[packet.formatID] != nil else {
                statistics.unknownFormat += 1
                unknownSinceKnown += 1
                lastUnknownFormat = packet.formatID
                return events
            }
            unknownSinceKnown = 0
            markAlive(&events)
            if formatID == nil { formatID = packet.formatID }
            if entryToggle != nil, entryToggle != packet.entryToggle { statistics.entryChanges += 1 }
            entryToggle = packet.entryToggle
            guard packet.formatID == formatID else {
                flush(&events)
                events.append(.formatChanged(packet.formatID))
                return events
            }
            take(packet, &events)
        }
        return events
    }

    /// The end: what the open span holds goes out, rebuilt where it can be.
    public mutating func finish() -> [Event] {
        var events: [Event] = []
        flush(&events)
        return events
    }

    private mutating func markAlive(_ events: inout [Event]) {
        guard !alive else { return }
        alive = true
        events.append(.alive)
    }

    private var format: Format { formatID.flatMap { formats[$0] } ?? Format(packetSize: 0, videoStreams: []) }

    private mutating func take(_ packet: MSBPacket, _ events: inout [Event]) {
        guard let fields = ParitySpan.fields(of: packet.data), fields.number >= 1 else {
            // Without FEC fields: no span to wait for.
            flush(&events)
            statistics.packets += 1
            emit(id: packet.id, packet.data, &events)
            return
        }
        if spanCycle != fields.cycle { flush(&events) }
        spanCycle = fields.cycle
        if fields.isParity {
            statistics.parityPackets += 1
            spanParity = packet.data
            flush(&events, span: fields.number - 1)
        } else {
            statistics.packets += 1
            span[fields.number] = (packet.id, packet.data)
        }
    }

    /// Hands out the open span in order, its one missing packet rebuilt when the parity came
    /// and says how many the span holds.
    private mutating func flush(_ events: inout [Event], span length: Int? = nil) {
        if let length, let parity = spanParity, let cycle = spanCycle, span.count == length - 1,
           let missing = (1...max(1, length)).first(where: { span[$0] == nil }), let (knownNumber, known) = span.first {
            let rebuilt = ParitySpan.recover(number: missing, cycle: cycle, from: span.values.map(\.bytes), parity: parity)
            span[missing] = (known.id &+ UInt32(bitPattern: Int32(missing - knownNumber)), rebuilt)
            statistics.recovered += 1
        }
        for (id, bytes) in span.values.sorted(by: { $0.id < $1.id }) { emit(id: id, bytes, &events) }
        span.removeAll(keepingCapacity: true)
        spanParity = nil
        spanCycle = nil
    }

    private mutating func emit(id: UInt32, _ bytes: ByteBuffer, _ events: inout [Event]) {
        if let lastID {
            let gap = id &- lastID
            guard gap != 0, gap < 1 << 31 else { return }   // a repeat, or one from before
            // A jump of more than a minute of packets is a sender that started again.
            if gap <= 1 << 16 { statistics.lost += Int(gap) - 1 }
        }
        lastID = id
        guard let packet = try? DataPacket(parsing: bytes) else {
            statistics.malformed += 1
            events.append(.malformed("packet \(id) does not parse as an ASF data packet"))
            return
        }
        // The first packet loses the end of the frame before its key frame (built at full size);
        // the others are padded back to their size.
        let (packetSize, video) = (format.packetSize, format.videoStreams)
        var full: ByteBuffer?
        if !started {
            guard video.isEmpty || video.contains(where: packet.startsKeyFrame(of:)) else { return }
            started = true
            if let trimmed = packet.startingAtKeyFrame(of: video, packetSize: packetSize) { full = trimmed.bytes }
        }
        guard var padded = full ?? packet.padded(to: packetSize) else {
            statistics.malformed += 1
            events.append(.malformed("packet \(id) is larger than its header's \(packetSize) bytes"))
            return
        }
        // The span's fields belong to the group: a file's error correction data is 0 0, which
        // ffmpeg syncs on (it skips a packet whose bytes after 0x82 are not zero).
        if padded.getInteger(at: padded.readerIndex, as: UInt8.self) == 0x82 { padded.setBytes([0, 0], at: padded.readerIndex + 1) }
        events.append(.packet(padded))
    }
}
