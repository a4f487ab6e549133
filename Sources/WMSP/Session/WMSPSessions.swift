import NIOConcurrencyHelpers
import NIOCore

/// The session state of MS-WMSP 3.2.1, kept per Client-ID for the whole server: requests on other
/// connections (SelectStream, Stop, KeepAlive, Log in non-pipelined mode) find the connection that
/// carries the session's data through it. The lock is taken per request, never per packet.
public final class WMSPSessions: Sendable {
    public enum State: Sendable, Equatable {
        case initial, streaming, idle
    }

    private struct Entry {
        var state: State
        /// The connection the session's $D packets go to (Data-Connection), while streaming.
        var data: NIOLoopBound<WMSPServerHandler>?
        var idleTimer: Scheduled<Void>?
    }

    /// 3.2.2: the Idle-Timeout SHOULD be 60 s; the `timeout` token we send says a little less.
    public let idleTimeout: TimeAmount
    private let entries = NIOLockedValueBox<[UInt32: Entry]>([:])

    public init(idleTimeout: TimeAmount = .seconds(60)) {
        self.idleTimeout = idleTimeout
    }

    /// 3.2.3: a new session with a random Client-ID, idle until it plays.
    func create(on loop: EventLoop) -> UInt32 {
        let id = entries.withLockedValue { entries in
            var id: UInt32
            repeat { id = UInt32.random(in: 1...UInt32.max) } while entries[id] != nil
            entries[id] = Entry(state: .initial)
            return id
        }
        startIdleTimer(id, on: loop)
        return id
    }

    public func state(of id: UInt32) -> State? {
        entries.withLockedValue { $0[id]?.state }
    }

    public var count: Int { entries.withLockedValue { $0.count } }

    /// The session streams on `handler`'s connection; its idle timer stops (3.2.5.2).
    func streaming(_ id: UInt32, on handler: NIOLoopBound<WMSPServerHandler>) {
        let timer = entries.withLockedValue { entries -> Scheduled<Void>? in
            let timer = entries[id]?.idleTimer
            entries[id] = Entry(state: .streaming, data: handler, idleTimer: nil)
            return timer
        }
        timer?.cancel()
    }

    /// The data connection ended or stopped: the session idles until its timer expires.
    func stopped(_ id: UInt32, on loop: EventLoop) {
        let known = entries.withLockedValue { entries -> Bool in
            guard entries[id] != nil else { return false }
            entries[id]!.state = .idle
            entries[id]!.data = nil
            return true
        }
        if known { startIdleTimer(id, on: loop) }
    }

    /// A request for the session arrived: its idle timer starts over. False when it is unknown.
    func touch(_ id: UInt32, on loop: EventLoop) -> Bool {
        guard let state = state(of: id) else { return false }
        if state != .streaming { startIdleTimer(id, on: loop) }
        return true
    }

    /// The handler carrying the session's data, if it is streaming.
    func dataConnection(of id: UInt32) -> NIOLoopBound<WMSPServerHandler>? {
        entries.withLockedValue { $0[id]?.data }
    }

    private func startIdleTimer(_ id: UInt32, on loop: EventLoop) {
        let timer = loop.scheduleTask(in: idleTimeout) { [weak self] in self?.expire(id) ?? () }
        let previous = entries.withLockedValue { entries -> Scheduled<Void>? in
            guard entries[id] != nil else { return nil }
            let previous = entries[id]!.idleTimer
            entries[id]!.idleTimer = timer
            return previous
        }
        previous?.cancel()
    }

    /// 3.2.6.2: close what is still open and forget the session.
    private func expire(_ id: UInt32) {
        let entry = entries.withLockedValue { $0.removeValue(forKey: id) }
        if let data = entry?.data {
            data.eventLoop.execute { data.value.context?.close(promise: nil) }
        }
    }
}
