import Testing
import UsageRecords
@testable import Billing

/// DESIGN.md lessons: "Periods close": late usage is an adjustment on the next statement.
@Suite struct PeriodClosingTests {
    static let policy = PolicyFixtures.parse("""
        [[meters]]
        item = "meetings"
        measure = "meeting-hours"
        cycle = "monthly"
        price = "0.30"
        [closing]
        grace_days = 3
        """)

    static func records() -> ([UsageRecord], [RecordID: Timestamp]) {
        var b = RecordBuilder()
        let onTime = [b.started("2026-10-20T10:00:00Z", "early"), b.ended("2026-10-20T12:00:00Z", "early")] // 0.60
        let withinGrace = [b.started("2026-10-30T10:00:00Z", "graced"), b.ended("2026-10-30T11:00:00Z", "graced")] // 0.30
        let late = [b.started("2026-10-31T10:00:00Z", "late"), b.ended("2026-10-31T14:00:00Z", "late")] // 1.20
        let november = [b.started("2026-11-10T10:00:00Z", "nov"), b.ended("2026-11-10T11:00:00Z", "nov")] // 0.30
        var received: [RecordID: Timestamp] = [:]
        for r in onTime + november { received[r.id] = r.time.adding(seconds: 5) }
        for r in withinGrace { received[r.id] = RecordBuilder.at("2026-11-02T00:00:00Z") } // October closes on 4 November
        for r in late { received[r.id] = RecordBuilder.at("2026-11-10T00:00:00Z") }
        return (onTime + withinGrace + late + november, received)
    }

    @Test func aClosedStatementIsNeverEdited() {
        let (records, received) = Self.records()
        let october = Invoice.statement(records: records, receivedAt: received, policy: Self.policy,
                                        period: PolicyFixtures.period("2026-10"), asOf: RecordBuilder.at("2027-01-01T00:00:00Z"))
        #expect(october.total == PolicyFixtures.d("0.90")) // early and graced; late arrived after the close
        #expect(october.lines.allSatisfy { $0.kind == .usage })
    }

    @Test func lateUsageIsAnAdjustmentOnTheNextStatement() {
        let (records, received) = Self.records()
        let november = Invoice.statement(records: records, receivedAt: received, policy: Self.policy,
                                         period: PolicyFixtures.period("2026-11"), asOf: RecordBuilder.at("2027-01-01T00:00:00Z"))
        let adjustments = november.lines.filter { $0.kind == .adjustment }
        #expect(adjustments.count == 1)
        #expect(adjustments.first?.detail == "usage for 2026-10")
        #expect(adjustments.first?.quantity == ExactDecimal(Int64(240)))
        #expect(adjustments.first?.amount == PolicyFixtures.d("1.20"))
        #expect(november.total == PolicyFixtures.d("1.50"))
        // December has nothing left to adjust.
        let december = Invoice.statement(records: records, receivedAt: received, policy: Self.policy,
                                         period: PolicyFixtures.period("2026-12"), asOf: RecordBuilder.at("2027-01-10T00:00:00Z"))
        #expect(december.lines.isEmpty)
    }

    @Test func reratingAnOpenPeriodIsAlwaysAllowed() {
        let (records, received) = Self.records()
        // On 1 November October is still open: the statement so far holds what had arrived by then.
        let early = Invoice.statement(records: records, receivedAt: received, policy: Self.policy,
                                      period: PolicyFixtures.period("2026-10"), asOf: RecordBuilder.at("2026-11-01T00:00:00Z"))
        #expect(early.total == PolicyFixtures.d("0.60"))
        let rerated = Invoice.statement(records: records, receivedAt: received, policy: Self.policy,
                                        period: PolicyFixtures.period("2026-10"), asOf: RecordBuilder.at("2026-11-03T00:00:00Z"))
        #expect(rerated.total == PolicyFixtures.d("0.90"))
    }
}
