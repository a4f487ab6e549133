import NIOCore
import NIOEmbedded
import Testing
@testable import WMSP

struct StateMachineTests {
    @Test func pipelineTestWithTheSecondRequestInTime() {
        var m = WMSPConnectionStateMachine()
        #expect(m.received(.pipeline) == .startPipelineTest)
        #expect(m.open == .pipelineTest)
        #expect(m.received(.pipeline) == .send([.pipelineResult(true)], endOpen: true))
        #expect(m.open == WMSPConnectionStateMachine.Open.none)
    }

    @Test func pipelineTestAfterTheTimerExpired() {
        var m = WMSPConnectionStateMachine()
        _ = m.received(.pipeline)
        let first = m.pipelineTimerExpired(), second = m.pipelineTimerExpired()
        #expect(first)
        #expect(!second, "ends the response once")
        #expect(m.received(.pipeline) == .send([.pipelineResult(false)], endOpen: false))
    }

    @Test func repliesWaitForThePipelinedDataResponse() {
        var m = WMSPConnectionStateMachine()
        #expect(m.received(.play) == .respond)
        m.dataStarted(pipelined: true)
        #expect(m.received(.keepAlive) == .queued)
        #expect(m.received(.log) == .queued)
        #expect(m.received(.selectStream) == .continueData(flush: [.ok, .ok]))
        #expect(m.received(.keepAlive) == .queued)
        #expect(m.dataEnded() == [.ok])
        #expect(m.dataEnded().isEmpty)
    }

    @Test func illegalOrdersEndTheOpenResponseFirst() {
        for request: WMSPRequest.Kind in [.play, .describe, .download, .pipeline, .unsupported("PUT")] {
            var m = WMSPConnectionStateMachine()
            _ = m.received(.play)
            m.dataStarted(pipelined: true)
            if case .abort = m.received(request) {} else { Issue.record("\(request) while streaming pipelined") }
            #expect(m.open == .none, "the open response is ended before the error")
        }
        for request: WMSPRequest.Kind in [.keepAlive, .selectStream, .playNextEntry, .log] {
            var m = WMSPConnectionStateMachine()
            m.dataStarted(pipelined: false)
            if case .abort = m.received(request) {} else { Issue.record("\(request) on a non-pipelined data connection") }
            var test = WMSPConnectionStateMachine()
            _ = test.received(.pipeline)
            if case .abort = test.received(request) {} else { Issue.record("\(request) during the pipeline test") }
        }
        var idle = WMSPConnectionStateMachine()
        if case .reject = idle.received(.unsupported("PUT")) {} else { Issue.record("an unknown request") }
    }

    @Test func nothingIsWrittenBeforeAResponseInPreparation() {
        var m = WMSPConnectionStateMachine()
        #expect(m.received(.play) == .respond)
        #expect(m.open == .responding)
        for request: WMSPRequest.Kind in [.play, .describe, .keepAlive, .pipeline, .stop] {
            if case .ignore = m.received(request) {} else { Issue.record("\(request) while the Play is being answered") }
        }
        m.dataStarted(pipelined: true)
        #expect(m.received(.keepAlive) == .queued)
    }

    @Test func nonPipelinedControlGoesToTheNamedSession() {
        var m = WMSPConnectionStateMachine()
        #expect(m.received(.selectStream) == .forward)
        #expect(m.received(.stop) == .forward)
        #expect(m.received(.keepAlive) == .forward)
        var streaming = WMSPConnectionStateMachine()
        streaming.dataStarted(pipelined: false)
        #expect(streaming.received(.stop) == .forward)
    }

    @Test func idleSessionsExpire() {
        let loop = EmbeddedEventLoop()
        let sessions = WMSPSessions(idleTimeout: .seconds(60))
        let id = sessions.create(on: loop)
        #expect(sessions.state(of: id) == .initial)
        loop.advanceTime(by: .seconds(59))
        #expect(sessions.touch(id, on: loop), "a request restarts the timer")
        loop.advanceTime(by: .seconds(59))
        #expect(sessions.state(of: id) == .initial)
        loop.advanceTime(by: .seconds(2))
        #expect(sessions.state(of: id) == nil)
        #expect(!sessions.touch(id, on: loop))
    }
}
