import UsageRecords

/// Metered usage in the shape of Stripe's meter events (`POST /v1/billing/meter_events`):
/// `event_name`, `timestamp` (Unix seconds), `identifier` (Stripe drops a second event with the
/// same one, so sending the export twice does not double it) and `payload` with
/// `stripe_customer_id` and `value`. One event per account, item (and size) and cycle, as the
/// weekly report of the seed "Billing Assumptions" does; per-meeting minimum charges go to their
/// own meter (`…_minimum`, value: how many); usage drawn from prepaid packages is not sent.
enum StripeMeterEvents {
    static func render(_ invoice: Invoice) -> String {
        struct Key: Hashable { var account: String; var item: String; var detail: String?; var kind: LineKind; var cycle: Bucket }
        var sums: [Key: Int64] = [:]
        var order: [Key] = []
        for q in invoice.quantities where q.kind == .usage || q.kind == .minimum {
            let key = Key(account: q.account, item: q.item, detail: q.detail, kind: q.kind, cycle: q.cycle)
            if sums[key] == nil { order.append(key) }
            sums[key, default: 0] += q.quantity
        }
        var out = ""
        for key in order {
            // The cycle's last second: inside the month that bills it (a week belongs to its Sunday's month).
            let timestamp = key.cycle.end.seconds - 1
            let customer = invoice.stripe.customers[key.account] ?? key.account
            let name = eventName(item: key.item, detail: key.detail, minimum: key.kind == .minimum, invoice.stripe)
            let identifier = ["meetmeter", key.account, key.item, key.detail, key.cycle.label, key.kind == .minimum ? "minimum" : nil]
                .compactMap { $0 }.joined(separator: "-")
            let event: JSONValue = .object([
                "event_name": .string(name), "timestamp": .integer(timestamp), "identifier": .string(sanitize(identifier, keep: "-.:")),
                "payload": .object(["stripe_customer_id": .string(customer), "value": .string(String(sums[key] ?? 0))]),
            ])
            out += event.serialized + "\n"
        }
        return out
    }

    static func eventName(item: String, detail: String?, minimum: Bool, _ s: StripeSettings) -> String {
        let suffix = minimum ? "_minimum" : ""
        if let d = detail, let n = s.eventNames["\(item):\(d)"] { return n + suffix }
        if let n = s.eventNames[item] { return (detail.map { n + "_" + sanitize($0, keep: "") } ?? n) + suffix }
        return sanitize(([item] + (detail.map { [$0] } ?? [])).joined(separator: "_"), keep: "").lowercased() + suffix
    }

    static func sanitize(_ s: String, keep: String) -> String {
        String(s.map { c in (c.isASCII && (c.isLetter || c.isNumber)) || keep.contains(c) ? c : "_" })
    }
}
