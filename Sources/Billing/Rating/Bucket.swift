import UsageRecords

/// One cycle of a meter inside a statement: the span where seconds are summed and rounded.
public struct Bucket: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// `2026-W47`, `2026-11-22` or `2026-11`.
    public var label: String
    public var start: Timestamp
    public var end: Timestamp

    public init(label: String, start: Timestamp, end: Timestamp) {
        self.label = label
        self.start = start
        self.end = end
    }

    init(_ p: Period) { self.init(label: p.label, start: p.start, end: p.end) }

    public static func < (a: Bucket, b: Bucket) -> Bool { (a.start, a.end) < (b.start, b.end) }
    public var description: String { label }
}

/// Which cycles a statement covers (DESIGN.md, "Hosting"): a month bills the ISO weeks whose
/// Sunday it holds, so a week that straddles two months is billed whole in the second.
enum Collation {
    static func buckets(_ period: Period, _ cycle: Cycle) -> [Bucket] {
        switch (cycle, period.kind) {
        case (.daily, .month), (.daily, .week):
            var out: [Bucket] = []
            var day = period.start.civilDate
            while day.startOfDay < period.end {
                out.append(Bucket(.day(day)))
                day = day.adding(days: 1)
            }
            return out
        case (.weekly, .month):
            let first = period.start.civilDate
            var sunday = first.adding(days: 7 - first.isoWeekday)
            var out: [Bucket] = []
            while sunday.startOfDay < period.end {
                out.append(Bucket(.isoWeek(containing: sunday)))
                sunday = sunday.adding(days: 7)
            }
            return out
        default:
            // A cycle as long as the period or longer: the period is the one bucket.
            return [Bucket(period)]
        }
    }

    /// The buckets of the periods of `period`'s kind from the one holding `day` up to the one
    /// before `period`: where a prepaid package was drawn on before this statement.
    static func buckets(from day: CivilDate, before period: Period, _ cycle: Cycle) -> [Bucket] {
        var p: Period = switch period.kind {
        case .month: .month(year: day.year, month: day.month)
        case .week: .isoWeek(containing: day)
        case .day: .day(day)
        }
        var out: [Bucket] = []
        while p.start < period.start {
            out += buckets(p, cycle).filter { $0.end > day.startOfDay }
            p = p.next
        }
        return out
    }

    /// The bucket holding `t`, by binary search over sorted, disjoint buckets.
    static func index(of t: Timestamp, in buckets: [Bucket]) -> Int? {
        var lo = 0, hi = buckets.count - 1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if t < buckets[mid].start { hi = mid - 1 } else if t >= buckets[mid].end { lo = mid + 1 } else { return mid }
        }
        return nil
    }
}

extension Bucket {
    /// The cycles a statement of `period` covers for a meter of `cycle`, in order.
    public static func cycles(of period: Period, _ cycle: Cycle) -> [Bucket] { Collation.buckets(period, cycle) }
}
