import UsageRecords

/// A span of time that a statement or report covers: a calendar month, an ISO-8601 week or a
/// day, always in UTC (DESIGN.md: no time zones, no daylight saving).
public struct Period: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case month, week, day
    }

    /// `2026-11`, `2026-W47` or `2026-11-22`.
    public var label: String
    /// Inclusive, UTC.
    public var start: Timestamp
    /// Exclusive, UTC.
    public var end: Timestamp
    public var kind: Kind

    public init(label: String, start: Timestamp, end: Timestamp, kind: Kind) {
        self.label = label
        self.start = start
        self.end = end
        self.kind = kind
    }

    public var description: String { label }

    public func contains(_ t: Timestamp) -> Bool { start <= t && t < end }

    // MARK: Constructors

    public static func month(year: Int64, month: Int64) -> Period {
        let first = CivilDate(year: year, month: month, day: 1)
        let next = month == 12 ? CivilDate(year: year + 1, month: 1, day: 1) : CivilDate(year: year, month: month + 1, day: 1)
        return Period(label: "\(digits(year, 4))-\(digits(month, 2))", start: first.startOfDay, end: next.startOfDay, kind: .month)
    }

    /// ISO week `week` of ISO year `year`; the caller checks that the year has that many weeks.
    public static func isoWeek(year: Int64, week: Int64) -> Period {
        let monday = ISOWeek.monday(ofWeek: week, year: year)
        return Period(label: "\(digits(year, 4))-W\(digits(week, 2))", start: monday.startOfDay,
                      end: monday.adding(days: 7).startOfDay, kind: .week)
    }

    public static func isoWeek(containing date: CivilDate) -> Period {
        let w = ISOWeek(containing: date)
        return isoWeek(year: w.year, week: w.week)
    }

    public static func day(_ date: CivilDate) -> Period {
        Period(label: date.description, start: date.startOfDay, end: date.adding(days: 1).startOfDay, kind: .day)
    }

    /// The period of the same kind that follows this one.
    public var next: Period {
        let first = start.civilDate
        switch kind {
        case .month: return first.month == 12 ? .month(year: first.year + 1, month: 1) : .month(year: first.year, month: first.month + 1)
        case .week: return .isoWeek(containing: first.adding(days: 7))
        case .day: return .day(first.adding(days: 1))
        }
    }

    /// The period of the same kind that precedes this one.
    public var previous: Period {
        let first = start.civilDate
        switch kind {
        case .month: return first.month == 1 ? .month(year: first.year - 1, month: 12) : .month(year: first.year, month: first.month - 1)
        case .week: return .isoWeek(containing: first.adding(days: -7))
        case .day: return .day(first.adding(days: -1))
        }
    }

    // MARK: Parsing

    /// Parses `2026-11` (a month), `2026-W47` (an ISO week) or `2026-11-22` (a day).
    public static func parse(_ text: String) throws(PeriodError) -> Period {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let year = number(parts[0], width: 4) else {
            throw PeriodError(text: text, reason: "is not a month (2026-11), an ISO week (2026-W47) or a day (2026-11-22)")
        }
        guard year >= 1970, year <= 9999 else {
            throw PeriodError(text: text, reason: "year \(year) is outside 1970 to 9999")
        }
        if parts.count == 2, let w = parts[1].first, w == "W" || w == "w" {
            guard let week = number(parts[1].dropFirst(), width: 2) else {
                throw PeriodError(text: text, reason: "an ISO week is written with two digits after W, as in 2026-W07")
            }
            let weeks = ISOWeek.weeks(inYear: year)
            guard (1...weeks).contains(week) else {
                throw PeriodError(text: text, reason: "ISO year \(year) has weeks 1 to \(weeks), not \(week)")
            }
            return .isoWeek(year: year, week: week)
        }
        guard let month = number(parts[1], width: 2) else {
            throw PeriodError(text: text, reason: "the month is written with two digits, as in 2026-03")
        }
        guard (1...12).contains(month) else {
            throw PeriodError(text: text, reason: "month \(month) is not from 01 to 12")
        }
        if parts.count == 2 { return .month(year: year, month: month) }
        guard let day = number(parts[2], width: 2) else {
            throw PeriodError(text: text, reason: "the day is written with two digits, as in 2026-03-05")
        }
        let days = CivilDate.daysIn(month: month, year: year)
        guard (1...days).contains(day) else {
            throw PeriodError(text: text, reason: "\(digits(year, 4))-\(digits(month, 2)) has days 01 to \(days), not \(day)")
        }
        return .day(CivilDate(year: year, month: month, day: day))
    }

    private static func number(_ s: Substring, width: Int) -> Int64? {
        guard s.utf8.count == width, s.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int64(s)
    }
}

/// Why a text is not a period; names the text and says what would be right.
public struct PeriodError: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var reason: String

    public init(text: String, reason: String) {
        self.text = text
        self.reason = reason
    }

    public var description: String { "period '\(text)': \(reason)" }
}

/// Zero-padded decimal digits, without Foundation.
func digits(_ value: Int64, _ width: Int) -> String {
    let s = String(value)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}
