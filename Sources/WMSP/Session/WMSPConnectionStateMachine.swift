/// The order of requests and responses on one connection (MS-WMSP 3.2.5): which response is
/// still open, which replies wait for it to end (Pending-Responses), and the pipeline test
/// (2.2.2.5, 3.2.5.5). A value: the handler performs what it returns.
struct WMSPConnectionStateMachine: Equatable {
    enum Open: Equatable {
        case none
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
        case reject(String)
    }

    private(set) var open = Open.none
    private(set) var pending: [Reply] = []
    private var pipelineTestStarted = false
    private var pipelineTimerRunning = false

    mutating func received(_ kind: WMSPRequest.Kind) -> Action {
        switch (kind, open) {
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
            return .reject("Pipeline request while streaming")
        case (.describe, .none), (.play, .none), (.download, .none):
            return .respond
        case (.describe, _), (.play, _), (.download, _):
            return .reject("a response is still in progress on this connection")
        case (.keepAlive, .data(pipelined: true)), (.log, .data(pipelined: true)), (.sendEvent, .data(pipelined: true)):
            pending.append(.ok)
            return .queued
        case (.selectStream, .data(pipelined: true)), (.playNextEntry, .data(pipelined: true)):
            defer { pending.removeAll() }
            return .continueData(flush: pending)
        case (.selectStream, _), (.playNextEntry, _), (.stop, _):
            return .forward
        case (.keepAlive, _), (.log, _), (.sendEvent, _):
            return .forward
        case let (.unsupported(reason), _):
            return .reject(reason)
        }
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
