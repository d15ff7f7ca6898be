import UsageRecords

/// Turns measured pieces into lines, quantities and per-account totals, and carries balances too
/// small to charge.
enum InvoiceAssembly {
    struct LineKey: Hashable {
        var account: String
        var meter: Int
        var detail: String?
        var kind: LineKind
        var unit: String
        var unitPrice: ExactDecimal
        var bucket: Bucket?
    }

    static func assemble(period: Period, policy: BillingPolicy, measured: [(meter: Int, pieces: [Piece])],
                         carriedIn: [String: ExactDecimal]?, notes: DerivationNotes, warnings: [String]) -> Invoice {
        var groups: [LineKey: [Piece]] = [:]
        var quantities: [BilledQuantity] = []
        for (index, pieces) in measured {
            let meter = policy.meters[index]
            for p in pieces {
                let perCycle = meter.lines == .perCycle
                groups[LineKey(account: p.account, meter: index, detail: p.detail, kind: p.kind, unit: p.unit,
                               unitPrice: p.unitPrice, bucket: perCycle ? p.bucket : nil), default: []].append(p)
                quantities.append(BilledQuantity(account: p.account, item: meter.item, detail: p.detail, kind: p.kind, cycle: p.bucket,
                                                 quantity: p.quantity, unit: p.unit, unitPrice: p.unitPrice, sources: p.sources))
            }
        }
        let digits = policy.amountDigits
        var lines: [(key: LineKey, line: InvoiceLine)] = []
        for (key, pieces) in groups {
            let meter = policy.meters[key.meter]
            let quantity = pieces.reduce(Int64(0)) { $0 + $1.quantity }
            let buckets = Set(pieces.map(\.bucket)).sorted()
            let amount = (ExactDecimal(quantity) * key.unitPrice).rounded(scale: digits).widened(to: digits)
            let line = InvoiceLine(
                account: key.account, item: meter.item, detail: key.detail, description: meter.description, kind: key.kind,
                quantity: ExactDecimal(quantity), unit: key.unit, unitPrice: key.unitPrice, amount: amount,
                from: buckets.first?.start ?? period.start, to: buckets.last?.end ?? period.end, cycles: buckets.map(\.label),
                sources: Array(Set(pieces.flatMap(\.sources))).sorted())
            lines.append((key, line))
        }
        lines.sort { a, b in
            if a.key.account != b.key.account { return a.key.account < b.key.account }
            if a.key.meter != b.key.meter { return a.key.meter < b.key.meter }
            if a.key.detail != b.key.detail { return (a.key.detail ?? "") < (b.key.detail ?? "") }
            if a.line.from != b.line.from { return a.line.from < b.line.from }
            if a.key.kind != b.key.kind { return a.key.kind < b.key.kind }
            return a.key.unitPrice < b.key.unitPrice
        }
        quantities.sort { a, b in
            (a.account, a.item, a.detail ?? "", a.cycle.start, a.kind.order, a.sources.first ?? "")
                < (b.account, b.item, b.detail ?? "", b.cycle.start, b.kind.order, b.sources.first ?? "")
        }
        return withTotals(period: period, policy: policy, lines: lines.map(\.line), quantities: quantities,
                          carriedIn: carriedIn, notes: notes, warnings: warnings)
    }

    /// Per-account totals, with a line for what is carried in and for what is carried out.
    /// `carriedIn` nil: no chain of statements, so nothing is carried either way.
    static func withTotals(period: Period, policy: BillingPolicy, lines usage: [InvoiceLine], quantities: [BilledQuantity],
                           carriedIn optionalCarriedIn: [String: ExactDecimal]?, notes: DerivationNotes, warnings: [String]) -> Invoice {
        let carriedIn = optionalCarriedIn ?? [:]
        let digits = policy.amountDigits
        let zero = ExactDecimal.zero.widened(to: digits)
        var byAccount: [String: [InvoiceLine]] = [:]
        for l in usage { byAccount[l.account, default: []].append(l) }
        for (account, amount) in carriedIn where !amount.isZero && byAccount[account] == nil { byAccount[account] = [] }

        var lines: [InvoiceLine] = []
        var totals: [AccountTotal] = []
        for account in byAccount.keys.sorted() {
            var own = byAccount[account] ?? []
            let charges = own.reduce(zero) { $0 + $1.amount }
            let carried = (carriedIn[account] ?? .zero).rounded(scale: digits).widened(to: digits)
            if !carried.isZero {
                own.append(balanceLine(account, .carriedIn, carried, period, "from \(period.previous.label)"))
            }
            let balance = charges + carried
            var out = zero
            if optionalCarriedIn != nil && balance > .zero && balance < policy.carry.below {
                out = balance
                own.append(balanceLine(account, .carriedOut, -balance, period, "to \(period.next.label)"))
            }
            lines += own
            totals.append(AccountTotal(account: account, charges: charges, carriedIn: carried, carriedOut: out, due: balance - out))
        }
        let total = totals.reduce(zero) { $0 + $1.due }
        return Invoice(period: period, currency: policy.currency, amountDigits: digits, lines: lines, accounts: totals, total: total,
                       quantities: quantities, notes: notes, warnings: warnings, stripe: policy.stripe)
    }

    static func balanceLine(_ account: String, _ kind: LineKind, _ amount: ExactDecimal, _ period: Period, _ detail: String) -> InvoiceLine {
        InvoiceLine(account: account, item: "balance", detail: detail, description: kind == .carriedIn
                        ? "Balance carried from the previous period" : "Balance too small to charge, carried to the next period",
                    kind: kind, quantity: ExactDecimal(1), unit: "balance", unitPrice: amount, amount: amount,
                    from: period.start, to: period.end)
    }
}
