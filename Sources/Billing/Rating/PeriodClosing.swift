import UsageRecords

extension Invoice {
    /// The statement for `period` as issued at `asOf` (DESIGN.md lessons: "Periods close").
    ///
    /// A period closes `[closing] grace_days` after its end. The statement rates what had been
    /// received by the period's close (or by `asOf`, while it is still open); usage received later
    /// for it is never an edit of it, but an adjustment on a later statement. So this statement
    /// also carries, for each of the `[closing] lookback` periods before it, the difference between
    /// rating that period with what had been received by this statement's cutoff and with what had
    /// been received by the previous statement's cutoff.
    ///
    /// `receivedAt` holds when the aggregator stored each record; a record without one counts as
    /// received when it happened. `carriedIn` is what the previous statement carried out.
    public static func statement(records: [UsageRecord], receivedAt: [RecordID: Timestamp], policy: BillingPolicy,
                                 period: Period, asOf: Timestamp, carriedIn: [String: ExactDecimal] = [:]) -> Invoice {
        func cutoff(_ p: Period) -> Timestamp { min(asOf, policy.closing.closes(p)) }
        func known(by t: Timestamp) -> [UsageRecord] { records.filter { (receivedAt[$0.id] ?? $0.time) <= t } }

        let now = cutoff(period)
        let before = cutoff(period.previous)
        let current = known(by: now)
        let earlier = known(by: before)
        let usage = rate(derivation: Derivation(records: current), policy: policy, period: period, carriedIn: nil)

        var adjustments: [InvoiceLine] = []
        if current.count != earlier.count {
            let dNow = Derivation(records: current), dBefore = Derivation(records: earlier)
            var q = period
            for _ in 0..<policy.closing.lookback {
                q = q.previous
                let was = rate(derivation: dBefore, policy: policy, period: q, carriedIn: nil)
                let is_ = rate(derivation: dNow, policy: policy, period: q, carriedIn: nil)
                adjustments += difference(was: was, is: is_, for: q)
            }
        }
        let lines = usage.lines.filter { $0.kind != .carriedIn && $0.kind != .carriedOut } + adjustments
        return InvoiceAssembly.withTotals(period: period, policy: policy, lines: lines, quantities: usage.quantities,
                                          carriedIn: carriedIn, notes: usage.notes, warnings: usage.warnings)
    }

    /// Line by line, what rating `q` again adds to (or takes from) what was billed for it.
    static func difference(was: Invoice, is now: Invoice, for q: Period) -> [InvoiceLine] {
        struct Key: Hashable { var account, item: String; var detail: String?; var kind: LineKind; var unit: String; var unitPrice: ExactDecimal }
        func key(_ l: InvoiceLine) -> Key { Key(account: l.account, item: l.item, detail: l.detail, kind: l.kind, unit: l.unit, unitPrice: l.unitPrice) }
        var delta: [Key: (quantity: ExactDecimal, amount: ExactDecimal, line: InvoiceLine)] = [:]
        var order: [Key] = []
        for l in now.lines where l.kind != .carriedIn && l.kind != .carriedOut {
            let k = key(l)
            if delta[k] == nil { order.append(k) }
            let d = delta[k] ?? (.zero, .zero, l)
            delta[k] = (d.quantity + l.quantity, d.amount + l.amount, l)
        }
        for l in was.lines where l.kind != .carriedIn && l.kind != .carriedOut {
            let k = key(l)
            if delta[k] == nil { order.append(k) }
            let d = delta[k] ?? (.zero, .zero, l)
            delta[k] = (d.quantity - l.quantity, d.amount - l.amount, l)
        }
        return order.compactMap { k in
            guard let d = delta[k], !(d.quantity.isZero && d.amount.isZero) else { return nil }
            var line = d.line
            line.kind = .adjustment
            line.detail = ([k.detail, "\(k.kind.rawValue) for \(q.label)"].compactMap { $0 }).joined(separator: ", ")
            line.quantity = d.quantity
            line.amount = d.amount
            return line
        }
    }
}
