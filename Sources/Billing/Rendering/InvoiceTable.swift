/// An aligned table for people: one row a line, then each account's total and the notes.
enum InvoiceTable {
    static func render(_ invoice: Invoice) -> String {
        let digits = invoice.amountDigits
        var out = "Invoice for \(invoice.period.label) (\(invoice.period.start.rfc3339.prefix(10)) to "
        out += "\(invoice.period.end.adding(seconds: -1).rfc3339.prefix(10)), UTC), amounts in \(invoice.currency)\n"
        if invoice.lines.isEmpty {
            out += "\nno billable usage\n"
        } else {
            let head = ["account", "item", "detail", "kind", "quantity", "unit", "unit price", "amount"]
            let rows = invoice.lines.map { l in
                [l.account, l.item, l.detail ?? "", l.kind.rawValue, InvoiceRendering.quantity(l.quantity), l.unit,
                 InvoiceRendering.price(l.unitPrice, digits: digits), l.amount.formatted(scale: digits)]
            }
            let rightAligned: Set<Int> = [4, 6, 7]
            var widths = head.map(\.count)
            for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
            func format(_ r: [String]) -> String {
                r.enumerated().map { i, c in
                    let padding = String(repeating: " ", count: widths[i] - c.count)
                    return rightAligned.contains(i) ? padding + c : c + padding
                }.joined(separator: "  ").trimmingTrailingSpaces + "\n"
            }
            out += "\n" + format(head)
            out += format(widths.map { String(repeating: "-", count: $0) })
            for r in rows { out += format(r) }
        }
        if !invoice.accounts.isEmpty {
            out += "\n"
            let width = invoice.accounts.map(\.account.count).max() ?? 0
            for a in invoice.accounts {
                out += a.account + String(repeating: " ", count: width - a.account.count) + "  due " + a.due.formatted(scale: digits)
                if !a.carriedOut.isZero { out += "  (\(a.carriedOut.formatted(scale: digits)) carried to the next period)" }
                out += "\n"
            }
        }
        out += "\ntotal due: \(invoice.total.formatted(scale: digits)) \(invoice.currency)\n"
        let notes = invoice.notes.items
        if !notes.isEmpty {
            out += "\nmended while reading the records: " + notes.map { "\($0.count) \($0.name)" }.joined(separator: ", ") + "\n"
        }
        for w in invoice.warnings { out += "warning: \(w)\n" }
        return out
    }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
