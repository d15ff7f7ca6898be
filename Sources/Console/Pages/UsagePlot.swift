import Billing

/// A meter's quantities per day or week as an SVG bar chart, drawn here: no script and nothing
/// fetched. Bars in cycle order, the largest filling the height, each labelled with its cycle
/// and its value (also as a tooltip).
enum UsagePlot {
    static func svg(title: String, unit: String, bars: [(label: String, value: Int64)], by: String) -> String {
        let width = 640, height = 220, left = 48, bottom = 40, top = 14
        let plotHeight = height - bottom - top
        let largest = max(bars.map(\.value).max() ?? 0, 1)
        let slot = bars.isEmpty ? 0 : (width - left - 8) / bars.count
        let barWidth = min(max(slot - 4, 2), 48)
        var out = "<svg class=\"plot usage\" data-by=\"\(by)\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(HTML.escape(title))\">"
        out += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width - 4)\" y2=\"\(top + plotHeight)\"/>"
        out += "<text x=\"4\" y=\"\(top + 8)\">\(largest)</text><text x=\"4\" y=\"\(top + plotHeight)\">0</text>"
        out += "<text x=\"4\" y=\"\(height - 4)\">\(HTML.escape(unit))</text>"
        let labelEvery = max(1, (bars.count + 5) / 6)
        for (i, bar) in bars.enumerated() {
            let h = Int(Double(plotHeight) * Double(bar.value) / Double(largest))
            let x = left + i * slot + 2
            out += "<rect class=\"bar\" x=\"\(x)\" y=\"\(top + plotHeight - h)\" width=\"\(barWidth)\" height=\"\(h)\" data-cycle=\"\(HTML.escape(bar.label))\" data-value=\"\(bar.value)\"><title>\(HTML.escape(bar.label)): \(bar.value) \(HTML.escape(unit))</title></rect>"
            if i % labelEvery == 0 {
                // A day without its year (the heading says the period), a week as it is.
                let shown = bar.label.count == 10 ? String(bar.label.dropFirst(5)) : bar.label
                out += "<text x=\"\(x)\" y=\"\(height - 22)\">\(HTML.escape(shown))</text>"
            }
        }
        return out + "</svg>"
    }
}
