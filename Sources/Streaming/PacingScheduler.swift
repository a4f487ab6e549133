import CoreMetrics
import NIOCore

/// Something the scheduler drives: sends what is due at `now` and says when it next has work.
public protocol PacedSession: AnyObject {
    /// Sends every packet due at `now` (one flush); returns the next deadline, or nil when the
    /// session has nothing more to schedule (ended, or waiting for its channel to drain).
    func pump(now: NIODeadline) -> NIODeadline?
}

/// One per event loop: every session on the loop registers its next deadline here, and one timer
/// wakes for the earliest. Runs only on its loop, so it needs no locks. Its clock is the loop's
/// (`EventLoop.now`), which NIO's embedded loops advance virtually in tests.
public final class PacingScheduler {
    public let eventLoop: EventLoop
    private var heap: [(deadline: NIODeadline, order: UInt64, session: PacedSession)] = []
    private var order: UInt64 = 0
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// WMS's "late sends": a session's wake-up that came `lateness` or more after its time, so
    /// that what it sent then went out late (a loop too busy for its sessions).
    private let lateSends: Counter?
    static let lateness = TimeAmount.milliseconds(500)

    public init(eventLoop: EventLoop, lateSends: Counter? = nil) {
        self.eventLoop = eventLoop
        self.lateSends = lateSends
    }

    public var scheduledCount: Int { heap.count }

    /// Asks for `session.pump` at `deadline` (now, if in the past).
    public func schedule(_ session: PacedSession, at deadline: NIODeadline) {
        eventLoop.preconditionInEventLoop()
        order &+= 1
        push((deadline, order, session))
        arm()
    }

    /// Drops every pending wake-up of `session`.
    public func cancel(_ session: PacedSession) {
        heap.removeAll { $0.session === session }
        heapify()
        arm()
    }

    private func fire() {
        timer = nil
        timerDeadline = nil
        let now = eventLoop.now
        var due = [(PacedSession)]()
        var late = 0
        while let top = heap.first, top.deadline <= now {
            if now - top.deadline >= Self.lateness { late += 1 }
            due.append(pop().session)
        }
        if late > 0 { lateSends?.increment(by: Int64(late)) }
        for session in due {
            if let next = session.pump(now: now) {
                order &+= 1
                push((next, order, session))
            }
        }
        arm()
    }

    private func arm() {
        guard let earliest = heap.first?.deadline else {
            timer?.cancel()
            timer = nil
            timerDeadline = nil
            return
        }
        if let current = timerDeadline, current <= earliest { return }
        timer?.cancel()
        timerDeadline = earliest
        timer = eventLoop.scheduleTask(deadline: earliest) { [weak self] in self?.fire() }
    }

    // MARK: Binary min-heap on (deadline, order)

    private func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].deadline != heap[b].deadline ? heap[a].deadline < heap[b].deadline : heap[a].order < heap[b].order
    }

    private func push(_ entry: (deadline: NIODeadline, order: UInt64, session: PacedSession)) {
        heap.append(entry)
        var i = heap.count - 1
        while i > 0, less(i, (i - 1) / 2) {
            heap.swapAt(i, (i - 1) / 2)
            i = (i - 1) / 2
        }
    }

    private func pop() -> (deadline: NIODeadline, order: UInt64, session: PacedSession) {
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        siftDown(0)
        return top
    }

    private func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var m = i
            if l < heap.count, less(l, m) { m = l }
            if r < heap.count, less(r, m) { m = r }
            if m == i { return }
            heap.swapAt(i, m)
            i = m
        }
    }

    private func heapify() {
        for i in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(i) }
    }
}
