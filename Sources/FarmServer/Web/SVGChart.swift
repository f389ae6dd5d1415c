import FarmCore
import FarmReports
import Foundation

/// Charts drawn on the server as inline SVG: pages need no script and no external file to show them.
/// Every label goes through `MarkupEscaping`; everything else written is a number.
enum SVGChart {
    /// A point of a trend: one boot.
    struct Point {
        var value: Double
        /// Shown on hover: the revision and the value.
        var label: String
        /// The boot's page.
        var href: String
        /// pass, fail or error: the dot's colour.
        var status: String
    }

    static let width = 760.0
    static let height = 220.0
    static let left = 56.0
    static let right = 12.0
    static let top = 14.0
    static let bottom = 28.0

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    /// A rounded maximum for an axis: 1, 2 or 5 times a power of ten, at least `value`.
    static func niceMaximum(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for step in [1.0, 2.0, 5.0, 10.0] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    /// A number for an axis label: no trailing zeros.
    static func tick(_ value: Double) -> String {
        value >= 100 || value == value.rounded() ? String(format: "%.0f", value) : String(format: "%g", value)
    }

    /// The frame, horizontal grid and y labels of a chart whose values run from 0 to `maximum`.
    static func frame(maximum: Double, unit: String, title: String) -> String {
        let e = MarkupEscaping.escape
        var svg = """
            <svg class="chart" viewBox="0 0 \(format(width)) \(format(height))" role="img" aria-label="\(e(title))" \
            xmlns="http://www.w3.org/2000/svg"><title>\(e(title))</title>
            """
        for step in 0...4 {
            let value = maximum * Double(step) / 4
            let y = top + (height - top - bottom) * (1 - Double(step) / 4)
            svg += "<line class=\"grid\" x1=\"\(format(left))\" x2=\"\(format(width - right))\" y1=\"\(format(y))\" y2=\"\(format(y))\"/>"
            svg += "<text class=\"axis\" x=\"\(format(left - 6))\" y=\"\(format(y + 4))\" text-anchor=\"end\">\(e(tick(value)))</text>"
        }
        svg += "<text class=\"axis\" x=\"4\" y=\"\(format(top - 2))\">\(e(unit))</text>"
        return svg
    }

    /// A trend over boots, oldest left: a line with one dot per boot, each a link to the boot.
    static func trend(_ points: [Point], unit: String, title: String) -> String {
        let values = points.map(\.value)
        guard !points.isEmpty, let largest = values.max() else { return "" }
        let maximum = niceMaximum(largest * 1.05)
        let e = MarkupEscaping.escape
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func x(_ index: Int) -> Double { left + (points.count == 1 ? plotWidth / 2 : plotWidth * Double(index) / Double(points.count - 1)) }
        func y(_ value: Double) -> Double { top + plotHeight * (1 - value / maximum) }
        var svg = frame(maximum: maximum, unit: unit, title: title)
        let line = points.indices.map { "\(format(x($0))),\(format(y(points[$0].value)))" }.joined(separator: " ")
        svg += "<polyline class=\"trend\" points=\"\(line)\"/>"
        for (index, point) in points.enumerated() {
            svg += """
                <a href="\(e(point.href))"><circle class="dot \(e(point.status))" cx="\(format(x(index)))" cy="\(format(y(point.value)))" r="3.5">\
                <title>\(e(point.label))</title></circle></a>
                """
        }
        if let first = points.first, let last = points.last {
            svg +=
                "<text class=\"axis\" x=\"\(format(left))\" y=\"\(format(height - 8))\">\(e(first.label.split(separator: ":").first.map(String.init) ?? ""))</text>"
            svg +=
                "<text class=\"axis\" x=\"\(format(width - right))\" y=\"\(format(height - 8))\" text-anchor=\"end\">\(e(last.label.split(separator: ":").first.map(String.init) ?? ""))</text>"
        }
        return svg + "</svg>"
    }

    /// The power trace in watts over seconds since power-on, with a dashed line where each stage began.
    /// Long traces are reduced to the lowest and highest sample of each of `buckets` columns, so peaks survive.
    static func powerTrace(_ trace: PowerTrace, stages: [(Stage, Double)], buckets: Int = 600) -> String {
        guard trace.count > 1 else { return "" }
        let duration = max(trace.durationSeconds, stages.map(\.1).max() ?? 0, 0.001)
        let start = trace[0].seconds
        let peak = trace.map(\.watts).max() ?? 0
        let maximum = niceMaximum(peak * 1.05)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func x(_ seconds: Double) -> Double { left + plotWidth * min(1, max(0, (seconds - start) / duration)) }
        func y(_ watts: Double) -> Double { top + plotHeight * (1 - watts / maximum) }
        var columns: [(Double, Double, Double)] = []  // seconds, lowest, highest
        let perBucket = max(1, trace.count / buckets)
        var index = 0
        while index < trace.count {
            let end = min(trace.count, index + perBucket)
            var low = Double.infinity
            var high = -Double.infinity
            for sample in trace[index..<end] {
                low = min(low, sample.watts)
                high = max(high, sample.watts)
            }
            columns.append((trace[index].seconds, low, high))
            index = end
        }
        var points: [String] = []
        for (seconds, low, high) in columns {
            points.append("\(format(x(seconds))),\(format(y(high)))")
            if low != high { points.append("\(format(x(seconds))),\(format(y(low)))") }
        }
        var svg = frame(maximum: maximum, unit: "W", title: "Power during the boot")
        svg += "<polyline class=\"power\" points=\"\(points.joined(separator: " "))\"/>"
        for (index, (stage, seconds)) in stages.enumerated() {
            let position = format(x(seconds + start))
            // Stages often begin close together: labels step down so that they do not overlap.
            let labelY = format(top + 10 + Double(index % 3) * 12)
            svg += "<line class=\"stage\" x1=\"\(position)\" x2=\"\(position)\" y1=\"\(format(top))\" y2=\"\(format(height - bottom))\"/>"
            // Near the right edge a label ends at its line instead of starting there.
            let anchor = x(seconds + start) > width * 0.8 ? "text-anchor=\"end\" dx=\"-3\"" : "dx=\"3\""
            svg += "<text class=\"stage-label\" x=\"\(position)\" y=\"\(labelY)\" \(anchor)>\(stage.rawValue)</text>"
        }
        svg += "<text class=\"axis\" x=\"\(format(left))\" y=\"\(format(height - 8))\">0 s</text>"
        svg +=
            "<text class=\"axis\" x=\"\(format(width - right))\" y=\"\(format(height - 8))\" text-anchor=\"end\">\(format(duration)) s</text>"
        return svg + "</svg>"
    }

    /// The stages of a boot as one horizontal bar: each stage from its start to the next one's.
    static func stageTimeline(_ stages: [(Stage, Double)], end: Double) -> String {
        guard !stages.isEmpty else { return "" }
        let total = max(end, stages.map(\.1).max() ?? 0, 0.001)
        let barWidth = width - left - right
        var svg = """
            <svg class="timeline" viewBox="0 0 \(format(width)) 60" role="img" aria-label="Stage timeline" \
            xmlns="http://www.w3.org/2000/svg"><title>Stage timeline</title>
            """
        for (index, (stage, seconds)) in stages.enumerated() {
            let next = index + 1 < stages.count ? stages[index + 1].1 : total
            let x = left + barWidth * seconds / total
            let w = max(1, barWidth * (next - seconds) / total)
            // Labels alternate between two rows; near the right edge one ends where its bar ends.
            let labelY = 36 + (index % 2) * 14
            let labelPosition =
                x > width * 0.8
                ? "x=\"\(format(min(x + w, width - right)))\" y=\"\(labelY)\" text-anchor=\"end\"" : "x=\"\(format(x))\" y=\"\(labelY)\""
            svg += """
                <rect class="stage-\(stage.rawValue)" x="\(format(x))" y="4" width="\(format(w))" height="18">\
                <title>\(stage.rawValue): from \(String(format: "%.2f", seconds)) s</title></rect>\
                <text class="axis" \(labelPosition)>\(stage.rawValue) \(String(format: "%.1f", seconds)) s</text>
                """
        }
        return svg + "</svg>"
    }
}
