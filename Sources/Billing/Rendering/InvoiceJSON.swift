import UsageRecords

/// The JSON of DESIGN.md's command-line contract; every number is a decimal string.
enum InvoiceJSON {
    static func render(_ invoice: Invoice) -> String {
        value(invoice).serialized + "\n"
    }

    static func value(_ invoice: Invoice) -> JSONValue {
        let digits = invoice.amountDigits
        let lines: [JSONValue] = invoice.lines.map { l in
            .object([
                "account": .string(l.account), "item": .string(l.item), "detail": l.detail.map(JSONValue.string) ?? .null,
                "description": l.description.map(JSONValue.string) ?? .null, "kind": .string(l.kind.rawValue),
                "quantity": .string(InvoiceRendering.quantity(l.quantity)), "unit": .string(l.unit),
                "unit_price": .string(InvoiceRendering.price(l.unitPrice, digits: digits)), "amount": .string(l.amount.formatted(scale: digits)),
                "from": .string(l.from.rfc3339), "to": .string(l.to.rfc3339), "cycles": .array(l.cycles.map(JSONValue.string)),
                "sources": .array(l.sources.map(JSONValue.string)),
            ])
        }
        let accounts: [JSONValue] = invoice.accounts.map { a in
            .object([
                "account": .string(a.account), "charges": .string(a.charges.formatted(scale: digits)),
                "carried_in": .string(a.carriedIn.formatted(scale: digits)), "carried_out": .string(a.carriedOut.formatted(scale: digits)),
                "due": .string(a.due.formatted(scale: digits)),
            ])
        }
        var notes: [String: JSONValue] = [:]
        for (name, count) in invoice.notes.items { notes[name] = .integer(count) }
        return .object([
            "period": .string(invoice.period.label), "from": .string(invoice.period.start.rfc3339), "to": .string(invoice.period.end.rfc3339),
            "currency": .string(invoice.currency), "lines": .array(lines), "accounts": .array(accounts),
            "total": .string(invoice.total.formatted(scale: digits)), "warnings": .array(invoice.warnings.map(JSONValue.string)),
            "notes": .object(notes),
        ])
    }
}
