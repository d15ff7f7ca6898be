import Billing
import Hummingbird
import Statements
import UsageRecords

/// An account's usage over time, per meter, per day or per ISO week: the period rated once more
/// under the console's policy with every meter's cycle set to the day (or the week), so that each
/// point is what that meter's own rule measures, rounded as the rule rounds a cycle. Usage
/// quantities only, every cycle of the period (idle ones at zero); prices, minimums and prepaid
/// packages do not enter.
extension ConsoleAPI {
    enum Granularity: String, CaseIterable {
        case day, week
        var cycle: Cycle { self == .day ? .daily : .weekly }
    }

    struct UsageSeries {
        var meter: String
        var unit: String
        var points: [(cycle: Bucket, quantity: Int64)]
    }

    func addUsageRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/v1/accounts/:account/usage") { request, context in
            let account = try pathParameter(context, "account")
            guard try viewer(request).sees(account) else { throw ConsoleError.notFound }
            let period = try periodParameter(request)
            let by = try granularity(request)
            let evidence = try await evidence(period)
            let series = Self.usage(evidence, policy: policy, account: account, period: period, by: by)
            return Answer.json(.object([
                "account": .string(account), "period": .string(period.label), "by": .string(by.rawValue),
                "meters": .array(series.map { s in
                    .object(["meter": .string(s.meter), "unit": .string(s.unit), "points": .array(s.points.map { p in
                        .object(["cycle": .string(p.cycle.label), "start": .string(p.cycle.start.rfc3339), "quantity": .integer(p.quantity)])
                    })])
                }),
            ]))
        }
    }

    /// `by=`: day (the default) or week.
    func granularity(_ request: Request) throws(ConsoleError) -> Granularity {
        let name = request.uri.queryParameters.get("by") ?? "day"
        guard let by = Granularity(rawValue: String(name)) else { throw ConsoleError.badRequest("by: day or week") }
        return by
    }

    func evidence(_ period: Period) async throws -> (records: [UsageRecord], receivedAt: [RecordID: Timestamp]) {
        try await reading("the records of \(period.label)") { try await PolicyEvidence.load(store: store, policy: policy, period: period) }
    }

    static func usage(_ evidence: (records: [UsageRecord], receivedAt: [RecordID: Timestamp]), policy: BillingPolicy,
                      account: String, period: Period, by: Granularity) -> [UsageSeries] {
        var rebased = policy
        for i in rebased.meters.indices { rebased.meters[i].cycle = by.cycle }
        let cycles = Bucket.cycles(of: period, by.cycle)
        // Every cycle of the period, the idle ones at zero: a plot over time shows the quiet days.
        return series(Invoice.rate(records: evidence.records, policy: rebased, period: period), account: account).map { s in
            var quantities: [Bucket: Int64] = [:]
            for p in s.points { quantities[p.cycle, default: 0] += p.quantity }
            return UsageSeries(meter: s.meter, unit: s.unit, points: cycles.map { ($0, quantities[$0] ?? 0) })
        }
    }

    /// An account's usage quantities per meter (and size) and cycle, from a statement.
    static func series(_ invoice: Invoice, account: String) -> [UsageSeries] {
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
            return UsageSeries(meter: [key.item, key.detail].compactMap { $0 }.joined(separator: " "), unit: key.unit,
                               points: cycles.map { ($0.key, $0.value) })
        }
    }
}
