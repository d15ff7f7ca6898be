import UsageRecords

/// The output formats of `meetmeter bill` and `meetmeter report`'s statements.
public enum InvoiceFormat: String, Sendable, Hashable, CaseIterable {
    /// An aligned table for people.
    case table
    /// One JSON object: `period`, `currency`, `lines` (each with `account`, `item`, `quantity`,
    /// `unit`, `unit_price`, `amount` as decimal strings), `accounts`, `total`.
    case json
    /// One row a line, RFC 4180.
    case csv
    /// Stripe meter events, one JSON object a line, for a provider who bills through Stripe.
    case stripe
}

/// Renders invoices as text. Pure: the caller prints.
public enum InvoiceRendering {
    /// The JSON form as a value, for a caller that serves a part of it.
    public static func jsonValue(_ invoice: Invoice) -> JSONValue { InvoiceJSON.value(invoice) }

    public static func render(_ invoice: Invoice, format: InvoiceFormat) -> String {
        switch format {
        case .table: InvoiceTable.render(invoice)
        case .json: InvoiceJSON.render(invoice)
        case .csv: InvoiceCSV.render(invoice)
        case .stripe: StripeMeterEvents.render(invoice)
        }
    }

    /// A unit price as exact as it is, but with at least the currency's decimals: `0.0015`,
    /// `0.000083333333`, `0.10`.
    public static func price(_ d: ExactDecimal, digits: Int) -> String {
        let t = d.trimmed
        return t.scale < digits ? t.widened(to: digits).description : t.description
    }

    public static func quantity(_ d: ExactDecimal) -> String { d.trimmed.description }
}
