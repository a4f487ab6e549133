import NIOCore

/// What one load-test session measured (a plain value: the drivers feed it times they read off
/// the clock, tests feed it virtual ones).
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
    /// A packet arriving later than its send time allows (relative to the first packet) by more
    /// than this counts as late.
    public let tolerance: TimeAmount
    public private(set) var connected: NIODeadline?
    public private(set) var firstPacket: NIODeadline?
    public private(set) var lastPacket: NIODeadline?
    public private(set) var ended: NIODeadline?
    public private(set) var firstSendTime: UInt32?
    public private(set) var lastSendTime: UInt32 = 0
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
    private var lastSequence: UInt32?

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
            firstSendTime = sendTime
            outcome = .playing
        }
        let offset = Int64(Int32(bitPattern: sendTime &- firstSendTime!))
        if offset > 0, now > firstPacket! + .milliseconds(offset) + tolerance { late += 1 }
        lastSendTime = max(lastSendTime, sendTime)
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

    public mutating func end(_ outcome: Outcome, at now: NIODeadline) {
        guard ended == nil else { return }
        ended = now
        if case .failed = outcome { self.outcome = outcome; return }
        self.outcome = firstPacket == nil && outcome == .stopped ? .failed("no data before the end") : outcome
    }

    public var connectTime: TimeAmount? { connected.map { $0 - started } }
    public var timeToFirstPacket: TimeAmount? { firstPacket.map { $0 - started } }

    /// Seconds of content received per second of play since the first packet: 1 keeps up
    /// exactly, Fast Start above; nil before a second has passed.
    public func rateRatio(at now: NIODeadline) -> Double? {
        guard let firstPacket, let firstSendTime else { return nil }
        let wall = Double(((ended ?? now) - firstPacket).nanoseconds) / 1e9
        guard wall >= 1 else { return nil }
        return Double(Int32(bitPattern: lastSendTime &- firstSendTime)) / 1000 / wall
    }

    /// Bits received per second of play since the first packet.
    public func bitsPerSecond(at now: NIODeadline) -> Double {
        guard let firstPacket else { return 0 }
        let wall = max(1, Double(((ended ?? now) - firstPacket).nanoseconds) / 1e9)
        return Double(bytes * 8) / wall
    }
}
