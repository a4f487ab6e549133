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

    @Test func illegalOrders() {
        var m = WMSPConnectionStateMachine()
        _ = m.received(.play)
        m.dataStarted(pipelined: true)
        if case .reject = m.received(.play) {} else { Issue.record("a second Play while streaming") }
        if case .reject = m.received(.describe) {} else { Issue.record("a Describe while streaming") }
        if case .reject = m.received(.pipeline) {} else { Issue.record("a Pipeline while streaming") }
        if case .reject = m.received(.unsupported("PUT")) {} else { Issue.record("an unknown request") }
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
