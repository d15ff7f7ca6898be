import UsageRecords

/// ISO-8601 weeks (Monday to Sunday, UTC). Week 1 is the week holding the year's first Thursday,
/// so the first days of January can belong to the previous year's week 52 or 53.
public struct ISOWeek: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int64
    public var week: Int64

    public init(year: Int64, week: Int64) {
        self.year = year
        self.week = week
    }

    public init(containing date: CivilDate) {
        // The Thursday of the date's week decides the ISO year.
        let thursday = date.adding(days: 4 - date.isoWeekday)
        let jan1 = CivilDate(year: thursday.year, month: 1, day: 1)
        self.init(year: thursday.year, week: (thursday.daysSinceEpoch - jan1.daysSinceEpoch) / 7 + 1)
    }

    public static func monday(ofWeek week: Int64, year: Int64) -> CivilDate {
        let jan4 = CivilDate(year: year, month: 1, day: 4)
        return jan4.adding(days: 1 - jan4.isoWeekday + 7 * (week - 1))
    }

    /// 52 or 53: a year has 53 weeks when 28 December falls in week 53.
    public static func weeks(inYear year: Int64) -> Int64 {
        ISOWeek(containing: CivilDate(year: year, month: 12, day: 28)).week
    }

    public var monday: CivilDate { Self.monday(ofWeek: week, year: year) }
    public var sunday: CivilDate { monday.adding(days: 6) }
    public var period: Period { .isoWeek(year: year, week: week) }

    public static func < (a: ISOWeek, b: ISOWeek) -> Bool { (a.year, a.week) < (b.year, b.week) }

    public var description: String { "\(digits(year, 4))-W\(digits(week, 2))" }
}
