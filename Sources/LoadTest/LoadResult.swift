import Foundation
import Histogram
import NIOCore

/// Durations in a high-dynamic-range histogram (HdrHistogram), in microseconds up to an hour.
struct LatencyHistogram {
    private var histogram = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)

    init(_ values: [TimeAmount]) {
        for v in values { _ = histogram.record(UInt64(max(0, v.nanoseconds / 1000))) }
    }

    var count: UInt64 { histogram.totalCount }

    func milliseconds(atPercentile percentile: Double) -> Double? {
        count == 0 ? nil : Double(histogram.valueAtPercentile(percentile)) / 1000
    }

    /// (upper bound ms, count) over `buckets` equal steps to the maximum.
    func distribution(buckets: Int) -> [(Double, UInt64)] {
        guard count > 0 else { return [] }
        let top = Double(histogram.max) / 1000
        let step = max(1, top / Double(buckets))
        var counts = [UInt64](repeating: 0, count: buckets)
        for value in histogram.recordedValues() {
            let ms = Double(value.value) / 1000
            counts[min(buckets - 1, Int(ms / step))] += value.count
        }
        return counts.enumerated().map { (Double($0.offset + 1) * step, $0.element) }
    }
}

/// A finished test: the plan, every session's record and the timeline, and what they add up to.
public struct LoadResult: Sendable {
    public var plan: LoadPlan
    public var began: NIODeadline
    public var ended: NIODeadline
    public var records: [SessionRecord]
    public var timeline: [LoadSample]

    public var seconds: Double { Double((ended - began).nanoseconds) / 1e9 }

    /// Sessions that got data and kept up: content received at `rateFraction` of real time or better.
    public var sessionsHoldingRate: Int {
        records.filter { record in
            guard let ratio = record.rateRatio(at: ended) else { return false }
            if case .failed = record.outcome { return false }
            return ratio >= plan.rateFraction
        }.count
    }

    public var passed: Bool {
        !records.isEmpty && Double(sessionsHoldingRate) >= plan.sessionsFraction * Double(plan.clients)
    }

    /// Failures by cause, most first.
    public var failures: [(cause: String, count: Int)] {
        var counts: [String: Int] = [:]
        for case let .failed(cause) in records.map(\.outcome) { counts[cause, default: 0] += 1 }
        return counts.sorted { $0.value > $1.value }.map { ($0.key, $0.value) }
    }

    var connectTimes: LatencyHistogram { LatencyHistogram(records.compactMap(\.connectTime)) }
    var firstPackets: LatencyHistogram { LatencyHistogram(records.compactMap(\.timeToFirstPacket)) }
    /// From each seek, reopening or switch to the first data it asked for.
    var actionLatencies: LatencyHistogram { LatencyHistogram(records.flatMap(\.actionLatencies)) }
    var actions: Int { records.reduce(0) { $0 + $1.actions } }

    /// What the profile's actions are called in the summary: singular and plural.
    var actionName: (one: String, many: String) {
        switch plan.profile {
        case .play: ("action", "actions")
        case .seek: ("seek", "seeks")
        case .openClose: ("reopening", "reopenings")
        case .switchStreams: ("switch", "switches")
        }
    }

    public var peakBitsPerSecond: Double { timeline.map(\.bitsPerSecond).max() ?? 0 }
    public var peakPlaying: Int { timeline.map(\.playing).max() ?? 0 }

    /// The summary table.
    public var summary: String {
        let late = records.reduce(0) { $0 + $1.late }, packets = records.reduce(0) { $0 + $1.packets }
        func row(_ name: String, _ h: LatencyHistogram) -> String {
            let v = [50.0, 90, 99, 99.9, 100].map { h.milliseconds(atPercentile: $0).map { decimal($0, 1) } ?? "-" }
            return name.padding(toLength: 22, withPad: " ", startingAt: 0) + v.map { $0.leftPadded(10) }.joined()
        }
        var lines = [
            "\(plan.player.rawValue) \(plan.profile.rawValue) \(plan.urls.map(\.absoluteString).joined(separator: " ")): \(records.count) sessions in \(decimal(seconds, 1)) s",
            "  holding \(Int(plan.rateFraction * 100)) % of the rate: \(sessionsHoldingRate) of \(plan.clients) (pass needs \(decimal(plan.sessionsFraction * 100, 1)) %): \(passed ? "PASS" : "FAIL")",
            "  peak: \(peakPlaying) playing, \(decimal(peakBitsPerSecond / 1e6, 1)) Mbit/s",
            "  packets \(packets), late \(late), missing \(records.reduce(0) { $0 + $1.gaps }), resend requests \(records.reduce(0) { $0 + $1.resendRequests })",
            "  ms                         p50       p90       p99     p99.9       max",
            "  " + row("connect", connectTimes),
            "  " + row("first data packet", firstPackets),
        ]
        if plan.profile != .play {
            lines.insert("  \(actionName.many) \(actions), answered \(actionLatencies.count)", at: 4)
            lines.append("  " + row("\(actionName.one) to data", actionLatencies))
        }
        for (cause, count) in failures { lines.append("  failed: \(count) × \(cause)") }
        return lines.joined(separator: "\n")
    }

    /// One CSV row per session.
    public var csv: String {
        var rows = ["session,outcome,connect_ms,first_packet_ms,packets,bytes,late,missing,resend_requests,content_bps,received_bps,rate_ratio,actions,action_p50_ms"]
        for (i, r) in records.enumerated() {
            let outcome: String
            switch r.outcome {
            case let .failed(cause): outcome = "failed: " + cause.replacingOccurrences(of: ",", with: ";")
            default: outcome = "\(r.outcome)"
            }
            let ms = { (t: TimeAmount?) in t.map { decimal(Double($0.nanoseconds) / 1e6, 1) } ?? "" }
            let counts = [r.packets, r.bytes, r.late, r.gaps, r.resendRequests].map(String.init)
            let rates = [r.contentBitsPerSecond.map(String.init) ?? "", decimal(r.bitsPerSecond(at: ended), 0),
                         r.rateRatio(at: ended).map { decimal($0, 3) } ?? ""]
            let actions = [String(r.actions), LatencyHistogram(r.actionLatencies).milliseconds(atPercentile: 50).map { decimal($0, 1) } ?? ""]
            rows.append(([String(i), outcome, ms(r.connectTime), ms(r.timeToFirstPacket)] + counts + rates + actions).joined(separator: ","))
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// The summary for machines.
    public struct Summary: Codable {
        public var protocolName: String
        public var profile: String
        public var urls: [String]
        public var clients: Int
        public var seconds: Double
        public var sessionsHoldingRate: Int
        public var passed: Bool
        public var peakPlaying: Int
        public var peakBitsPerSecond: Double
        public var packets: Int
        public var latePackets: Int
        public var missingPackets: Int
        public var resendRequests: Int
        public var connectMilliseconds: [String: Double]
        public var firstPacketMilliseconds: [String: Double]
        /// The profile's seeks, reopenings or switches, and from each to its data.
        public var actions: Int
        public var actionMilliseconds: [String: Double]
        public var failures: [String: Int]
        public var timeline: [LoadSample]
    }

    public var json: Summary {
        func percentiles(_ h: LatencyHistogram) -> [String: Double] {
            var result: [String: Double] = [:]
            for (name, p) in [("p50", 50.0), ("p90", 90), ("p99", 99), ("p99.9", 99.9), ("max", 100)] { result[name] = h.milliseconds(atPercentile: p) }
            return result
        }
        return Summary(protocolName: plan.player.rawValue, profile: plan.profile.rawValue, urls: plan.urls.map(\.absoluteString), clients: plan.clients, seconds: seconds,
                       sessionsHoldingRate: sessionsHoldingRate, passed: passed, peakPlaying: peakPlaying, peakBitsPerSecond: peakBitsPerSecond,
                       packets: records.reduce(0) { $0 + $1.packets }, latePackets: records.reduce(0) { $0 + $1.late },
                       missingPackets: records.reduce(0) { $0 + $1.gaps }, resendRequests: records.reduce(0) { $0 + $1.resendRequests },
                       connectMilliseconds: percentiles(connectTimes), firstPacketMilliseconds: percentiles(firstPackets),
                       actions: actions, actionMilliseconds: percentiles(actionLatencies),
                       failures: Dictionary(uniqueKeysWithValues: failures.map { ($0.cause, $0.count) }), timeline: timeline)
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
