import ASF
import Foundation
import NIOCore
import NIOEmbedded
import Testing
@testable import Streaming

struct PacingTests {
    static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Media")

    @Test func fastStartSendsTheLeadAtMostAtTheMaximumRate() {
        let pacing = Pacing(lead: .seconds(5), maximumRate: 5)
        #expect(pacing.delay(forOffset: .zero) == .zero)
        #expect(pacing.delay(forOffset: .seconds(5)) == .seconds(1), "5 s of lead at 5x takes 1 s")
        #expect(pacing.delay(forOffset: .seconds(20)) == .seconds(15), "then real time, 5 s ahead")
    }

    /// Drives a whole play session with virtual time: every packet goes out, none before it is due.
    final class Recorder: PacedSession {
        var session: PlaySession
        var sent: [(number: Int, at: NIODeadline)] = []
        var finished = false
        init(_ session: PlaySession) { self.session = session }
        func pump(now: NIODeadline) -> NIODeadline? {
            let step = try! session.sendDue(now: now) { output in
                if case let .packet(packet) = output { sent.append((Int(packet.locationID), now)) }
            }
            switch step {
            case let .wait(until): return until
            case .finished: finished = true; return nil
            }
        }
    }

    @Test func schedulerPacesASessionInVirtualTime() throws {
        let loop = EmbeddedEventLoop()
        let scheduler = PacingScheduler(eventLoop: loop)
        let file = try ASFFile(path: Self.media.appendingPathComponent("demo.wmv").path)
        let pacing = Pacing(lead: .seconds(3), maximumRate: 4)
        let recorder = Recorder(PlaySession(source: FileCursor(file: file), selection: nil, pacing: pacing, start: loop.now))
        let start = loop.now
        scheduler.schedule(recorder, at: start)
        loop.run()
        #expect(!recorder.sent.isEmpty)
        loop.advanceTime(by: .seconds(30))
        #expect(recorder.finished)
        #expect(recorder.sent.map(\.number) == Array(0..<file.packetCount))
        // Each packet left at its due time, never earlier.
        for (number, at) in recorder.sent {
            let due = start + pacing.delay(forOffset: .milliseconds(Int64(try file.packet(number).sendTime)))
            #expect(at >= due)
        }
        let last = try #require(recorder.sent.last)
        #expect(last.at - start >= .seconds(15), "a 20 s file with 3 s of lead takes about 17 s")
        #expect(scheduler.scheduledCount == 0)
    }

    @Test func cancelledSessionsAreNotPumped() throws {
        let loop = EmbeddedEventLoop()
        let scheduler = PacingScheduler(eventLoop: loop)
        let file = try ASFFile(path: Self.media.appendingPathComponent("demo.wmv").path)
        let recorder = Recorder(PlaySession(source: FileCursor(file: file), selection: [2], pacing: Pacing(lead: .zero, maximumRate: 1), start: loop.now))
        scheduler.schedule(recorder, at: loop.now)
        loop.run()
        let before = recorder.sent.count
        scheduler.cancel(recorder)
        loop.advanceTime(by: .seconds(30))
        #expect(recorder.sent.count == before)
        #expect(!recorder.finished)
    }
}
