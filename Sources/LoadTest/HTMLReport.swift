import Foundation

/// `--report`: one self-contained HTML page (inline SVG and CSS, no scripts or fonts fetched)
/// with the summary, sessions and aggregate bit rate over time, and the distributions of the
/// time to first packet and of the profile's actions to their data.
extension LoadResult {
    public var html: String {
        let times = timeline.map(\.seconds)
        let sessions = lineChart(title: "Sessions", x: times, series: [
            ("started", "#888", timeline.map { Double($0.started) }),
            ("playing", "#1a7f37", timeline.map { Double($0.playing) }),
            ("failed", "#cf222e", timeline.map { Double($0.failed) }),
        ], unit: "")
        let rate = lineChart(title: "Aggregate bit rate", x: times, series: [("Mbit/s", "#0969da", timeline.map { $0.bitsPerSecond / 1e6 })], unit: " Mbit/s")
        let ttfp = barChart(title: "Time to first data packet", bars: firstPackets.distribution(buckets: 30))
        let actions = plan.profile == .play ? "" : barChart(title: "From each \(actionName.one) to its data", bars: actionLatencies.distribution(buckets: 30))
        return """
        <!DOCTYPE html>
        <html><head><meta charset="utf-8"><title>asfcast load: \(escape(plan.player.rawValue))</title>
        <style>body{font-family:sans-serif;margin:2em;color:#222}pre{background:#f6f8fa;padding:1em}svg{display:block;margin:1em 0}</style>
        </head><body>
        <h1>asfcast load — \(passed ? "PASS" : "FAIL")</h1>
        <pre>\(escape(summary))</pre>
        \(sessions)
        \(rate)
        \(ttfp)
        \(actions)
        </body></html>

        """
    }

    private func lineChart(title: String, x: [Double], series: [(String, String, [Double])], unit: String) -> String {
        let w = 800.0, h = 260.0, left = 60.0, bottom = 30.0, top = 30.0
        let maxX = max(1, x.max() ?? 1), maxY = max(1, series.flatMap(\.2).max() ?? 1)
        func px(_ v: Double) -> Double { left + v / maxX * (w - left - 10) }
        func py(_ v: Double) -> Double { h - bottom - v / maxY * (h - bottom - top) }
        var svg = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<text x=\"\(Int(left))\" y=\"18\" font-size=\"14\">\(escape(title))</text>"
        svg += "<line x1=\"\(left)\" y1=\"\(py(0))\" x2=\"\(w - 10)\" y2=\"\(py(0))\" stroke=\"#999\"/><line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(py(0))\" stroke=\"#999\"/>"
        svg += "<text x=\"4\" y=\"\(top + 4)\" font-size=\"11\">\(decimal(maxY, maxY < 10 ? 1 : 0))\(escape(unit))</text>"
        svg += "<text x=\"\(w - 60)\" y=\"\(h - 8)\" font-size=\"11\">\(decimal(maxX, 0)) s</text>"
        for (i, (name, color, values)) in series.enumerated() {
            let points = zip(x, values).map { "\(decimal(px($0), 1)),\(decimal(py($1), 1))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points)\"/>"
            svg += "<text x=\"\(Int(left) + 10 + 90 * i)\" y=\"\(Int(top) + 12)\" font-size=\"12\" fill=\"\(color)\">\(escape(name))</text>"
        }
        return svg + "</svg>"
    }

    private func barChart(title: String, bars: [(Double, UInt64)]) -> String {
        let w = 800.0, h = 260.0, left = 60.0, bottom = 30.0, top = 30.0
        let maxY = Double(max(1, bars.map(\.1).max() ?? 1))
        let width = (w - left - 10) / Double(max(1, bars.count))
        var svg = "<svg width=\"\(Int(w))\" height=\"\(Int(h))\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<text x=\"\(Int(left))\" y=\"18\" font-size=\"14\">\(escape(title)) (sessions per bucket)</text>"
        for (i, (upper, count)) in bars.enumerated() {
            let barHeight = Double(count) / maxY * (h - bottom - top)
            svg += "<rect x=\"\(decimal(left + Double(i) * width, 1))\" y=\"\(decimal(h - bottom - barHeight, 1))\" width=\"\(decimal(width * 0.9, 1))\" height=\"\(decimal(barHeight, 1))\" fill=\"#0969da\"><title>≤ \(decimal(upper, 1)) ms: \(count)</title></rect>"
        }
        if let last = bars.last { svg += "<text x=\"\(w - 80)\" y=\"\(h - 8)\" font-size=\"11\">\(decimal(last.0, 0)) ms</text>" }
        svg += "<text x=\"4\" y=\"\(top + 4)\" font-size=\"11\">\(Int(maxY))</text>"
        return svg + "</svg>"
    }

    private func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
