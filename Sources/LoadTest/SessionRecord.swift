import NIOCore

/// What one load-test session measured (a plain value: the drivers feed it times they read off
/// the clock, tests feed it virtual ones).
///
/// A session plays in stretches: its profile's seeks and reopenings end one and the next starts
/// at the first packet after (late packets and the rate are measured within stretches); each
/// such action, and each stream switch, is timed until the data it asked for arrives.
public struct SessionRecord: Sendable {
    public enum Outcome: Sendable, Equatable {
        case connecting
        case playing
        /// The content ended (an on-demand file's end of stream).
        case finished
        /// Stopped at the test's end while playing.
        case stopped
        case failed(String)
    }

    public let started: NIODeadline
    /// A packet arriving later than its send time allows (relative to the first packet of its
    /// stretch) by more than this counts as late.
    public let tolerance: TimeAmount
    public private(set) var connected: NIODeadline?
    public private(set) var firstPacket: NIODeadline?
    public private(set) var lastPacket: NIODeadline?
    public private(set) var ended: NIODeadline?
    public private(set) var packets = 0
    public private(set) var bytes = 0
    public private(set) var late = 0
    /// Packets missing between the sequence numbers received.
    public private(set) var gaps = 0
    /// Resend requests sent (UDP).
    public var resendRequests = 0
    /// The content's bit rate as its header or description states it.
    public var contentBitsPerSecond: UInt32?
    public private(set) var outcome = Outcome.connecting
    /// Seeks, reopenings or stream switches asked for.
    public private(set) var actions = 0
    /// For each action answered: from asking to the first data it asked for.
    public private(set) var actionLatencies: [TimeAmount] = []
    private var lastSequence: UInt32?
    private var pendingAction: (started: NIODeadline, endsAtNextPacket: Bool)?
    /// The current stretch: its first packet's arrival and send time, and the latest send time.
    private var stretch: (arrived: NIODeadline, firstSendTime: UInt32, lastSendTime: UInt32)?
    /// Content milliseconds and wall time of the stretches before it.
    private var earlierContent: Int64 = 0
    private var earlierWall = TimeAmount.zero

    public init(started: NIODeadline, tolerance: TimeAmount = .milliseconds(500)) {
        self.started = started
        self.tolerance = tolerance
    }

    public mutating func connected(at now: NIODeadline) {
        connected = connected ?? now
    }

    /// One data packet: its ASF send time (ms), its sequence number in a space of `modulus`
    /// (0: none), its size, and when it arrived.
    public mutating func packet(sendTime: UInt32, sequence: UInt32?, modulus: UInt64 = 1 << 32, bytes count: Int, at now: NIODeadline) {
        if firstPacket == nil {
            firstPacket = now
            outcome = .playing
        }
        if stretch == nil {
            stretch = (now, sendTime, sendTime)
            if pendingAction?.endsAtNextPacket == true { actionAnswered(at: now) }
        }
        let offset = Int64(Int32(bitPattern: sendTime &- stretch!.firstSendTime))
        if offset > 0, now > stretch!.arrived + .milliseconds(offset) + tolerance { late += 1 }
        if Int32(bitPattern: sendTime &- stretch!.lastSendTime) > 0 { stretch!.lastSendTime = sendTime }
        if let sequence {
            // A step back is a packet resent or reordered: neither a gap nor the new latest.
            let step = lastSequence.map { (UInt64(sequence) &+ modulus &- UInt64($0)) % modulus } ?? 1
            if step < modulus / 2 {
                if step > 1 { gaps += Int(step - 1) }
                lastSequence = sequence
            }
        }
        packets += 1
        bytes += count
        lastPacket = now
    }

    /// The profile asks for something: a seek or a reopening (`restartsPlay`: the stretch ends
    /// and the action is answered by the next packet), or a stream switch (answered when the
    /// driver sees the new stream: `actionAnswered`).
    public mutating func actionAsked(at now: NIODeadline, restartsPlay: Bool) {
        actions += 1
        pendingAction = (now, restartsPlay)
        guard restartsPlay else { return }
        if let stretch {
            earlierContent += Int64(Int32(bitPattern: stretch.lastSendTime &- stretch.firstSendTime))
            earlierWall = earlierWall + (now - stretch.arrived)
        }
        stretch = nil
        lastSequence = nil
    }

    /// The data the pending action asked for arrived.
    public mutating func actionAnswered(at now: NIODeadline) {
        guard let pending = pendingAction else { return }
        actionLatencies.append(now - pending.started)
        pendingAction = nil
    }

    public mutating func end(_ outcome: Outcome, at now: NIODeadline) {
        guard ended == nil else { return }
        ended = now
        if case .failed = outcome { self.outcome = outcome; return }
        self.outcome = firstPacket == nil && outcome == .stopped ? .failed("no data before the end") : outcome
    }

    public var connectTime: TimeAmount? { connected.map { $0 - started } }
    public var timeToFirstPacket: TimeAmount? { firstPacket.map { $0 - started } }

    /// Seconds of content received per second of play, over the stretches played: 1 keeps up
    /// exactly, Fast Start above; nil before a second has been played, unless the session ended
    /// (a download can be over sooner).
    public func rateRatio(at now: NIODeadline) -> Double? {
        var content = earlierContent, wall = earlierWall
        if let stretch {
            content += Int64(Int32(bitPattern: stretch.lastSendTime &- stretch.firstSendTime))
            // Content that ended was played to its last packet (the end's report can come later).
            let end = outcome == .finished ? lastPacket ?? now : ended ?? now
            wall = wall + (end - stretch.arrived)
        }
        guard firstPacket != nil, wall >= .seconds(1) || (ended != nil && wall > .zero) else { return nil }
        return Double(content) / 1000 / (Double(wall.nanoseconds) / 1e9)
    }

    /// Bits received per second of play since the first packet.
    public func bitsPerSecond(at now: NIODeadline) -> Double {
        guard let firstPacket else { return 0 }
        let wall = max(1, Double(((ended ?? now) - firstPacket).nanoseconds) / 1e9)
        return Double(bytes * 8) / wall
    }
}
