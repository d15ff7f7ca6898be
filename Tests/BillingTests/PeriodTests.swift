import Testing
import UsageRecords
@testable import Billing

@Suite struct PeriodTests {
    @Test(arguments: [
        ("2026-11", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z"),
        ("2026-12", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("2028-02", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z"),
        ("2026-W47", "2026-11-16T00:00:00Z", "2026-11-23T00:00:00Z"),
        ("2026-W53", "2026-12-28T00:00:00Z", "2027-01-04T00:00:00Z"),
        ("2027-W01", "2027-01-04T00:00:00Z", "2027-01-11T00:00:00Z"),
        ("2026-W01", "2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z"),
        ("2026-11-22", "2026-11-22T00:00:00Z", "2026-11-23T00:00:00Z"),
        ("2028-02-29", "2028-02-29T00:00:00Z", "2028-03-01T00:00:00Z"),
    ])
    func parses(text: String, start: String, end: String) throws {
        let p = try Period.parse(text)
        #expect(p.label == text)
        #expect(p.description == text)
        #expect(p.start == RecordBuilder.at(start))
        #expect(p.end == RecordBuilder.at(end))
    }

    @Test(arguments: [
        ("2026-13", "month 13"), ("2026-00", "month 0"), ("2026-W54", "weeks 1 to 53"), ("2027-W53", "weeks 1 to 52"),
        ("2026-W7", "two digits"), ("2026-02-29", "days 01 to 28"), ("26-11", "is not a month"), ("", "is not a month"),
        ("2026-11-22T00", "two digits"), ("november", "is not a month"), ("2026-1", "two digits"),
    ])
    func refusesWithTheTextAndAReason(text: String, fragment: String) {
        #expect {
            _ = try Period.parse(text)
        } throws: { error in
            let message = "\(error)"
            return message.contains("'\(text)'") && message.contains(fragment)
        }
    }

    @Test func isoWeek53Of2026HoldsNewYearsDay2027() {
        let w = ISOWeek(containing: CivilDate(year: 2027, month: 1, day: 1))
        #expect(w == ISOWeek(year: 2026, week: 53))
        #expect(w.sunday == CivilDate(year: 2027, month: 1, day: 3))
        #expect(ISOWeek.weeks(inYear: 2026) == 53)
        #expect(ISOWeek.weeks(inYear: 2027) == 52)
        #expect(ISOWeek.weeks(inYear: 2020) == 53)
    }

    @Test func nextAndPrevious() throws {
        #expect(try Period.parse("2026-12").next == Period.parse("2027-01"))
        #expect(try Period.parse("2026-W53").next == Period.parse("2027-W01"))
        #expect(try Period.parse("2027-W01").previous == Period.parse("2026-W53"))
        #expect(try Period.parse("2026-03-01").previous == Period.parse("2026-02-28"))
    }
}
