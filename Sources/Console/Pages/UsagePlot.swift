import Billing

/// A meter's quantities per cycle as an SVG bar chart, drawn here: no script and nothing
/// fetched. Bars in cycle order, the largest filling the height, each labelled with its cycle
/// and its value (also as a tooltip).
enum UsagePlot {
    static func svg(title: String, unit: String, bars: [(label: String, value: Int64)]) -> String {
        let width = 640, height = 220, left = 48, bottom = 40, top = 14
        let plotHeight = height - bottom - top
        let largest = max(bars.map(\.value).max() ?? 0, 1)
        let slot = bars.isEmpty ? 0 : (width - left - 8) / bars.count
        let barWidth = min(max(slot - 4, 2), 48)
        var out = "<svg class=\"plot\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"\(HTML.escape(title))\">"
        out += "<line x1=\"\(left)\" y1=\"\(top + plotHeight)\" x2=\"\(width - 4)\" y2=\"\(top + plotHeight)\"/>"
        out += "<text x=\"4\" y=\"\(top + 8)\">\(largest)</text><text x=\"4\" y=\"\(top + plotHeight)\">0</text>"
        out += "<text x=\"4\" y=\"\(height - 4)\">\(HTML.escape(unit))</text>"
        let labelEvery = max(1, bars.count / 8)
        for (i, bar) in bars.enumerated() {
            let h = Int(Double(plotHeight) * Double(bar.value) / Double(largest))
            let x = left + i * slot + 2
            out += "<rect class=\"bar\" x=\"\(x)\" y=\"\(top + plotHeight - h)\" width=\"\(barWidth)\" height=\"\(h)\" data-cycle=\"\(HTML.escape(bar.label))\" data-value=\"\(bar.value)\"><title>\(HTML.escape(bar.label)): \(bar.value) \(HTML.escape(unit))</title></rect>"
            if i % labelEvery == 0 {
                out += "<text x=\"\(x)\" y=\"\(height - 22)\">\(HTML.escape(bar.label))</text>"
            }
        }
        return out + "</svg>"
    }

    /// An account's usage per meter (and size) and cycle, from the statement's quantities.
    static func series(_ invoice: Invoice, account: String) -> [(meter: String, unit: String, bars: [(label: String, value: Int64)])] {
        struct Key: Hashable { var item: String; var detail: String?; var unit: String }
        var order: [Key] = []
        var sums: [Key: [Bucket: Int64]] = [:]
        for q in invoice.quantities where q.account == account && q.kind == .usage {
            let key = Key(item: q.item, detail: q.detail, unit: q.unit)
            if sums[key] == nil { order.append(key) }
            sums[key, default: [:]][q.cycle, default: 0] += q.quantity
        }
        return order.map { key in
            let cycles = (sums[key] ?? [:]).sorted { $0.key < $1.key }
            return ([key.item, key.detail].compactMap { $0 }.joined(separator: " "), key.unit, cycles.map { ($0.key.label, $0.value) })
        }
    }
}
