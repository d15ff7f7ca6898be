import Testing
import UsageRecords
@testable import Billing

@Suite struct EvidenceWindowTests {
    @Test func aMonthOfWeeksReadsTheWeeksItBillsAndAMargin() {
        let w = PolicyFixtures.hosting.evidenceWindow(for: PolicyFixtures.period("2027-01"))
        // January 2027 bills 2026-W53 (from Monday 28 December) to 2027-W04 (to Sunday 31 January).
        #expect(w.start == RecordBuilder.at("2026-12-26T00:00:00Z"))
        #expect(w.end == RecordBuilder.at("2027-02-03T00:00:00Z"))
    }

    @Test func prepaidPackagesAndCarriedMonthsWidenIt() {
        let policy = PolicyFixtures.parse("""
            preset = "whiteboard"
            [carry]
            below = "0.50"
            since = "2026-06"
            [[prepaid]]
            account = "a"
            item = "whiteboard"
            quantity = 10
            from = "2026-09-15"
            """)
        #expect(policy.evidenceWindow(for: PolicyFixtures.period("2026-11"), marginDays: 0).start == RecordBuilder.at("2026-06-01T00:00:00Z"))
    }

    @Test func ratesByMetadataNumbers() {
        let policy = PolicyFixtures.parse("""
            [[meters]]
            item = "meetings"
            measure = "meeting-hours"
            price = "0.30"
            [[meters.rates]]
            meta = "meta_max_participants"
            at_least = 100
            price = "0.90"
            """)
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-18T10:00:00Z", "big", meta: ["meta_max_participants": .number("150")]),
            b.ended("2026-11-18T11:00:00Z", "big"),
            b.started("2026-11-18T10:00:00Z", "small", meta: ["meta_max_participants": .string("20")]),
            b.ended("2026-11-18T11:00:00Z", "small"),
        ]
        let invoice = Invoice.rate(records: records, policy: policy, period: PolicyFixtures.period("2026-11"))
        #expect(invoice.lines.map(\.amount.description) == ["0.30", "0.90"])
    }
}
