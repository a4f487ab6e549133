/// The order of requests and responses on one connection (MS-WMSP 3.2.5): which response is
/// still open, which replies wait for it to end (Pending-Responses), and the pipeline test
/// (2.2.2.5, 3.2.5.5). A value: the handler performs what it returns.
struct WMSPConnectionStateMachine: Equatable {
    enum Open: Equatable {
        case none
        /// A Describe, Play or download is being answered: its content is being opened, and its
        /// response (which closes the connection, or becomes the data response) is not out yet.
        case responding
        /// The first Pipeline response, chunked, waiting for the second request or the timer.
        case pipelineTest
        /// A response whose body carries $D packets.
        case data(pipelined: Bool)
    }

    /// A reply with an empty body, sent now or once the open response ends.
    enum Reply: Equatable {
        case ok
        case pipelineResult(Bool)
    }

    enum Action: Equatable {
        /// Answer as a new response (Describe, Play, download), no other response being open.
        case respond
        /// Start the pipeline test: a chunked response with a $T packet, and its timer.
        case startPipelineTest
        /// End the open pipeline-test response (if `endOpen`) then send the replies.
        case send([Reply], endOpen: Bool)
        /// Reply after the open data response ends.
        case queued
        /// End the open data response, send the waiting replies, then answer with a response that
        /// carries on with the data (SelectStream, PlayNextEntry in pipelined mode).
        case continueData(flush: [Reply])
        /// Apply to the session whose data goes elsewhere, then reply (non-pipelined control).
        case forward
        /// Answer 400 and close; no response is open.
        case reject(String)
        /// A response is open and this request cannot wait for it: end the open response
        /// (stopping its data), then answer 400 and close. NIO's HTTP encoder takes one response
        /// at a time, so the open one must end before the error's head is written.
        case abort(String)
        /// A response is being prepared; nothing may be written before it. The request is dropped
        /// (that response closes the connection or carries the data).
        case ignore(String)
    }

    private(set) var open = Open.none
    private(set) var pending: [Reply] = []
    private var pipelineTestStarted = false
    private var pipelineTimerRunning = false

    mutating func received(_ kind: WMSPRequest.Kind) -> Action {
        switch (kind, open) {
        case (_, .responding):
            return .ignore("\(kind) before the previous request was answered")
        case (.pipeline, .pipelineTest):
            // The second Pipeline request: the timer was still running.
            open = .none
            pipelineTestStarted = false
            pipelineTimerRunning = false
            return .send([.pipelineResult(true)], endOpen: true)
        case (.pipeline, .none) where pipelineTestStarted:
            // The timer expired before the second request: pipelining is not possible.
            pipelineTestStarted = false
            return .send([.pipelineResult(false)], endOpen: false)
        case (.pipeline, .none):
            pipelineTestStarted = true
            pipelineTimerRunning = true
            open = .pipelineTest
            return .startPipelineTest
        case (.pipeline, .data):
            return abort("Pipeline request while streaming")
        case (.describe, .none), (.play, .none), (.download, .none):
            open = .responding
            return .respond
        case (.describe, _), (.play, _), (.download, _):
            return abort("\(kind) while a response is still in progress on this connection")
        case (.keepAlive, .data(pipelined: true)), (.log, .data(pipelined: true)), (.sendEvent, .data(pipelined: true)):
            pending.append(.ok)
            return .queued
        case (.selectStream, .data(pipelined: true)), (.playNextEntry, .data(pipelined: true)):
            defer { pending.removeAll() }
            return .continueData(flush: pending)
        case (.stop, .data):
            // Stop ends the data response before its reply (3.2.5.10): safe on the data connection.
            return .forward
        case (_, .pipelineTest), (_, .data(pipelined: false)):
            // Only the second Pipeline request may come during the test (3.2.5.5), and in
            // non-pipelined mode every request has a connection of its own (3.2.5.3).
            return abort("\(kind) on a connection whose response is still open")
        case (.selectStream, .none), (.playNextEntry, .none), (.stop, .none):
            return .forward
        case (.keepAlive, .none), (.log, .none), (.sendEvent, .none):
            return .forward
        case let (.unsupported(reason), .none):
            return .reject(reason)
        case let (.unsupported(reason), .data):
            return abort(reason)
        }
    }

    private mutating func abort(_ reason: String) -> Action {
        open = .none
        pending.removeAll()
        pipelineTestStarted = false
        pipelineTimerRunning = false
        return .abort(reason)
    }

    /// 3.2.6.1: the timer ended the test; the open response must end now.
    mutating func pipelineTimerExpired() -> Bool {
        guard open == .pipelineTest else { return false }
        pipelineTimerRunning = false
        open = .none
        return true
    }

    mutating func dataStarted(pipelined: Bool) {
        open = .data(pipelined: pipelined)
    }

    /// The data response ended: the replies that waited for it.
    mutating func dataEnded() -> [Reply] {
        open = .none
        defer { pending.removeAll() }
        return pending
    }
}
