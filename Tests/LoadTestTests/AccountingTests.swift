import NIOCore
import Testing
@testable import LoadTest

/// The load tester's accounting on virtual time: late packets, gaps, rates, percentiles.
struct AccountingTests {
    static let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    static func at(_ milliseconds: Int64) -> NIODeadline { t0 + .milliseconds(milliseconds) }

    /// Packets on time (or early, as Fast Start sends them) are not late; one arriving more than
    /// the tolerance after its send time (relative to the first packet) is.
    @Test func latePacketsAreThoseBehindTheirSendTimeByMoreThanTheTolerance() {
        var r = SessionRecord(started: Self.t0, tolerance: .milliseconds(500))
        r.packet(sendTime: 3100, sequence: 0, bytes: 100, at: Self.at(50))      // the first: the origin
        r.packet(sendTime: 3600, sequence: 1, bytes: 100, at: Self.at(300))     // early
        r.packet(sendTime: 4100, sequence: 2, bytes: 100, at: Self.at(1_550))   // 500 ms behind: within
        r.packet(sendTime: 4600, sequence: 3, bytes: 100, at: Self.at(2_150))   // 600 ms behind: late
        #expect(r.late == 1)
        #expect(r.timeToFirstPacket == .milliseconds(50))
        #expect(r.packets == 4 && r.bytes == 400)
    }

    /// Sequence numbers skipped count as missing, across the wrap of their space; a step back
    /// (a resent packet) does not.
    @Test func gapsCountMissingSequenceNumbersAcrossTheWrap() {
        var r = SessionRecord(started: Self.t0)
        for (i, sequence) in [250, 251, 254, 255, 2, 1, 3].enumerated() {
            r.packet(sendTime: UInt32(i * 10), sequence: UInt32(sequence), modulus: 256, bytes: 10, at: Self.at(Int64(i)))
        }
        #expect(r.gaps == 2 + 2)  // 252, 253; then 0, 1 (1 arrives late, which is no gap)
    }

    /// The rate a session holds: seconds of content per second of play since its first packet,
    /// and bits per second over the same time.
    @Test func ratesAreMeasuredFromTheFirstPacket() {
        var r = SessionRecord(started: Self.t0)
        #expect(r.rateRatio(at: Self.at(5_000)) == nil)
        for second in 0...10 {
            r.packet(sendTime: UInt32(3100 + second * 1000), sequence: UInt32(second), bytes: 50_000, at: Self.at(Int64(second) * 1000 + 200))
        }
        // 10 s of content in 10 s of play: 1; if the client waits on to 20 s with nothing more: 0.5.
        #expect(r.rateRatio(at: Self.at(10_200)) == 1)
        #expect(r.rateRatio(at: Self.at(20_200)) == 0.5)
        #expect(r.bitsPerSecond(at: Self.at(10_200)) == 11 * 50_000 * 8 / 10)
        r.end(.finished, at: Self.at(10_200))
        #expect(r.rateRatio(at: Self.at(99_000)) == 1, "an ended session is measured to its end")
    }

    @Test func aSessionStoppedBeforeAnyDataFailed() {
        var r = SessionRecord(started: Self.t0)
        r.end(.stopped, at: Self.at(1_000))
        #expect(r.outcome == .failed("no data before the end"))
    }

    /// HdrHistogram percentiles of 1 to 1000 ms, within its 3 significant digits.
    @Test func percentilesComeFromTheHistogram() throws {
        let h = LatencyHistogram((1...1000).map { TimeAmount.milliseconds($0) })
        #expect(h.count == 1000)
        let p50 = try #require(h.milliseconds(atPercentile: 50))
        let p99 = try #require(h.milliseconds(atPercentile: 99))
        #expect(abs(p50 - 500) <= 1 && abs(p99 - 990) <= 1)
        #expect(h.distribution(buckets: 10).map(\.1).reduce(0, +) == 1000)
        #expect(LatencyHistogram([]).milliseconds(atPercentile: 50) == nil)
    }
}

/// Profiles' actions: a seek or reopening starts a new stretch of play, answered by its first
/// packet; a switch is answered when the driver sees the new stream.
struct ActionAccountingTests {
    static func at(_ milliseconds: Int64) -> NIODeadline { AccountingTests.at(milliseconds) }

    @Test func aSeekStartsANewStretchAndIsAnsweredByItsFirstPacket() {
        var r = SessionRecord(started: Self.at(0))
        r.packet(sendTime: 1000, sequence: 10, bytes: 10, at: Self.at(0))
        r.packet(sendTime: 2000, sequence: 11, bytes: 10, at: Self.at(1_000))
        r.actionAsked(at: Self.at(1_000), restartsPlay: true)
        // The seek went back to 0.5 s of content: 300 ms later it plays from there, on time
        // relative to its own first packet, and the sequence's jump is no gap.
        r.packet(sendTime: 500, sequence: 3, bytes: 10, at: Self.at(1_300))
        r.packet(sendTime: 1500, sequence: 4, bytes: 10, at: Self.at(2_300))
        #expect(r.actions == 1 && r.actionLatencies == [.milliseconds(300)])
        #expect(r.late == 0 && r.gaps == 0)
        // 1 s of content in 1 s of play per stretch; the 300 ms waiting are the seek's, not play.
        #expect(r.rateRatio(at: Self.at(2_300)) == 1)
    }

    @Test func aSwitchIsAnsweredWhenTheNewStreamArrives() {
        var r = SessionRecord(started: Self.at(0))
        r.packet(sendTime: 1000, sequence: 0, bytes: 10, at: Self.at(0))
        r.actionAsked(at: Self.at(500), restartsPlay: false)
        r.packet(sendTime: 1600, sequence: 1, bytes: 10, at: Self.at(600))
        #expect(r.actionLatencies.isEmpty, "packets of the old stream do not answer it")
        r.actionAnswered(at: Self.at(900))
        r.actionAnswered(at: Self.at(950))
        #expect(r.actions == 1 && r.actionLatencies == [.milliseconds(400)])
    }

    @Test func aSessionThatFinishedIsMeasuredToItsLastPacket() {
        var r = SessionRecord(started: Self.at(0))
        r.packet(sendTime: 0, sequence: nil, bytes: 10, at: Self.at(0))
        r.packet(sendTime: 2000, sequence: nil, bytes: 10, at: Self.at(2_000))
        // The end's report comes a second after the last packet (MMS over UDP waits for it).
        r.end(.finished, at: Self.at(3_000))
        #expect(r.rateRatio(at: Self.at(3_000)) == 1)
    }
}
