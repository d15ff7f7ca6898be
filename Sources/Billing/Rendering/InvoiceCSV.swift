/// One row an invoice line, RFC 4180, with the JSON's field names as the header.
enum InvoiceCSV {
    static let header = "period,currency,account,item,detail,kind,quantity,unit,unit_price,amount,from,to,cycles"

    static func render(_ invoice: Invoice) -> String {
        let digits = invoice.amountDigits
        var out = header + "\r\n"
        for l in invoice.lines {
            let row = [
                text(invoice.period.label), text(invoice.currency), text(l.account), text(l.item), text(l.detail ?? ""),
                l.kind.rawValue, InvoiceRendering.quantity(l.quantity), text(l.unit), InvoiceRendering.price(l.unitPrice, digits: digits),
                l.amount.formatted(scale: digits), l.from.rfc3339, l.to.rfc3339, text(l.cycles.joined(separator: " ")),
            ]
            out += row.joined(separator: ",") + "\r\n"
        }
        return out
    }

    /// Quoted when it must be; text a spreadsheet would take for a formula gets a leading quote.
    /// Numbers are written as they are (a credit's minus sign is not a formula).
    static func text(_ s: String) -> String {
        var s = s
        if let f = s.first, "=+-@\t\r".contains(f) { s = "'" + s }
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacing("\"", with: "\"\"") + "\""
        }
        return s
    }
}
