import Testing
@testable import RTSP

/// The session state machine (RFC 2326 A.1, MS-RTSP 3.2): every legal and illegal transition.
struct StateMachineTests {
    private func ready() -> RTSPSessionStateMachine {
        var m = RTSPSessionStateMachine()
        _ = m.setup(newSessionID: "42")
        return m
    }

    private func playing() -> RTSPSessionStateMachine {
        var m = ready()
        _ = m.play()
        return m
    }

    @Test func setupStartsTheSessionOnceAndIsValidInEveryState() {
        var m = RTSPSessionStateMachine()
        #expect(m.state == .initial && m.sessionID == nil)
        #expect(m.setup(newSessionID: "42") == .accept)
        #expect(m.state == .ready && m.sessionID == "42")
        #expect(m.setup(newSessionID: "99") == .accept)
        #expect(m.sessionID == "42", "a second SETUP joins the same session")
        var p = playing()
        #expect(p.setup(newSessionID: "99") == .accept)
        #expect(p.state == .playing, "SelectStream while playing keeps playing")
    }

    @Test func playNeedsASetupAndMaySeekWhilePlaying() {
        var m = RTSPSessionStateMachine()
        #expect(m.play() == .refuse(455))
        #expect(m.state == .initial)
        var r = ready()
        #expect(r.play() == .accept)
        #expect(r.state == .playing)
        #expect(r.play() == .accept)
        #expect(r.state == .playing)
    }

    @Test func pauseOnlyWhilePlaying() {
        var m = RTSPSessionStateMachine()
        #expect(m.pause() == .refuse(455))
        var r = ready()
        #expect(r.pause() == .refuse(455))
        var p = playing()
        #expect(p.pause() == .accept)
        #expect(p.state == .ready)
        #expect(p.pause() == .refuse(455))
    }

    /// After an EndOfStream a PAUSE is accepted in READY (GStreamer sends one after the last),
    /// until a Play; PAUSE in READY before any end of stream is not.
    @Test func endOfStreamReturnsToReadyAndAllowsPause() {
        var p = playing()
        let sent = p.endOfStream()
        #expect(sent)
        #expect(p.state == .ready)
        #expect(p.pause() == .accept)
        #expect(p.state == .ready)
        let sentAgain = p.endOfStream()
        #expect(!sentAgain, "no EndOfStream unless playing")
        #expect(p.play() == .accept)
        #expect(p.pause() == .accept)
        #expect(p.pause() == .refuse(455), "a Play clears the allowance")
    }

    @Test func teardownEndsTheSessionFromReadyOrPlaying() {
        var m = RTSPSessionStateMachine()
        #expect(m.teardown() == .refuse(455))
        var r = ready()
        #expect(r.teardown() == .accept)
        #expect(r.state == .initial && r.sessionID == nil)
        var p = playing()
        #expect(p.teardown() == .accept)
        #expect(p.state == .initial)
        #expect(p.play() == .refuse(455), "a torn-down session needs a new SETUP")
    }

    @Test func requestsMustNameTheirOwnSession() {
        let m = ready()
        #expect(m.check(session: nil) == .accept)
        #expect(m.check(session: "42") == .accept)
        #expect(m.check(session: "43") == .refuse(454))
        #expect(RTSPSessionStateMachine().check(session: "42") == .refuse(454))
    }
}
