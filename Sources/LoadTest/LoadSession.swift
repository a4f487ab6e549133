import NIOConcurrencyHelpers
import NIOCore

/// One simulated player: its record, fed from its channel's loop and read by the status line,
/// and its open connections, to close when the test ends (a closed one is forgotten: a session
/// that reopens for an hour holds only its current connections).
public final class LoadSession: Sendable {
    public let index: Int
    private let state: NIOLockedValueBox<(record: SessionRecord, channels: [ObjectIdentifier: Channel], stopping: Bool)>

    init(index: Int, started: NIODeadline, tolerance: TimeAmount) {
        self.index = index
        state = NIOLockedValueBox((SessionRecord(started: started, tolerance: tolerance), [:], false))
    }

    public var record: SessionRecord { state.withLockedValue { $0.record } }

    func update<T>(_ body: (inout SessionRecord) throws -> T) rethrows -> T {
        try state.withLockedValue { try body(&$0.record) }
    }

    func packet(sendTime: UInt32, sequence: UInt32?, modulus: UInt64 = 1 << 32, bytes: Int) {
        let now = NIODeadline.now()
        state.withLockedValue { $0.record.packet(sendTime: sendTime, sequence: sequence, modulus: modulus, bytes: bytes, at: now) }
    }

    /// The profile asks for a seek, a reopening or a switch (`SessionRecord.actionAsked`).
    func actionAsked(restartsPlay: Bool) {
        let now = NIODeadline.now()
        state.withLockedValue { $0.record.actionAsked(at: now, restartsPlay: restartsPlay) }
    }

    /// The stream a switch asked for arrived.
    func actionAnswered() {
        let now = NIODeadline.now()
        state.withLockedValue { $0.record.actionAnswered(at: now) }
    }

    /// A connection of this session, closed when the test stops it (at once if it already has).
    func own(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        let stopping = state.withLockedValue { s in
            s.channels[id] = channel
            return s.stopping
        }
        channel.closeFuture.whenComplete { _ in self.state.withLockedValue { _ = $0.channels.removeValue(forKey: id) } }
        if stopping { channel.close(promise: nil) }
    }

    func end(_ outcome: SessionRecord.Outcome) {
        let now = NIODeadline.now()
        state.withLockedValue { s in
            // Closing at the test's end makes drivers fail; that is a stop, not a failure.
            s.record.end(s.stopping ? .stopped : outcome, at: now)
        }
    }

    var isStopping: Bool { state.withLockedValue { $0.stopping } }

    /// The test's end: the session's connections close.
    func stop() {
        let channels = state.withLockedValue { s in
            s.stopping = true
            return s.channels
        }
        for channel in channels.values { channel.close(promise: nil) }
    }
}

/// What a driver reports when a session cannot go on: the cause, as the summary counts it.
public struct LoadFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
