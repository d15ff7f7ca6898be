import Testing
import UsageRecords
@testable import Billing

/// Seed "I am still billed when users stay inside the room after admin/tutor has exited".
@Suite struct LiveCollaborationSeedTests {
    static let policy = PolicyFixtures.liveCollaboration
    static let november = PolicyFixtures.period("2026-11")

    /// Billable minutes per person in meeting "m".
    static func perPerson(_ records: [UsageRecord], policy: BillingPolicy = policy) -> [String: Int64] {
        let d = Derivation(records: records)
        guard let m = d.meeting("m"), case .participantMinutes(let rule)? = policy.meters.first?.rule else { return [:] }
        var out: [String: Int64] = [:]
        for b in GracePeriod.billable(m, rule: rule) {
            out[b.user] = minutes(fromSeconds: wholeSeconds(b.spans.reduce(0) { $0 + $1.micro }))
        }
        return out
    }

    static func lesson(tutorLeaves: String, tutorReturns: [(String, String)] = [], studentsLeave: String = "2026-11-22T10:50:00Z")
        -> [UsageRecord]
    {
        var b = RecordBuilder()
        var r = [
            b.started("2026-11-22T10:00:00Z", "m", meta: ["meta_tenant": .string("school")]),
            b.joined("2026-11-22T10:00:00Z", "m", "tutor", "MODERATOR"),
            b.joined("2026-11-22T10:00:00Z", "m", "a", "VIEWER"),
            b.joined("2026-11-22T10:00:00Z", "m", "b", "VIEWER"),
            b.left(tutorLeaves, "m", "tutor"),
            b.left(studentsLeave, "m", "a"),
            b.left(studentsLeave, "m", "b"),
            b.ended("2026-11-22T11:00:00Z", "m"),
        ]
        for (back, gone) in tutorReturns {
            r.append(b.joined(back, "m", "tutor", "MODERATOR"))
            r.append(b.left(gone, "m", "tutor"))
        }
        return r
    }

    @Test func atMostFiveMinutesPerUserAfterTheAdminLeft() {
        let minutes = Self.perPerson(Self.lesson(tutorLeaves: "2026-11-22T10:30:00Z"))
        // Students stay to 10:50, twenty minutes after the tutor; they are billed five of them.
        #expect(minutes == ["tutor": 30, "a": 35, "b": 35])
        let invoice = Invoice.rate(records: Self.lesson(tutorLeaves: "2026-11-22T10:30:00Z"), policy: Self.policy, period: Self.november)
        #expect(invoice.lines.count == 1)
        #expect(invoice.lines[0].account == "school")
        #expect(invoice.lines[0].quantity == ExactDecimal(Int64(100)))
        #expect(invoice.lines[0].amount.description == "1.00")
    }

    @Test func studentsWhoLeaveWithinTheGraceAreBilledToTheirLeaving() {
        let minutes = Self.perPerson(Self.lesson(tutorLeaves: "2026-11-22T10:30:00Z", studentsLeave: "2026-11-22T10:32:00Z"))
        #expect(minutes == ["tutor": 30, "a": 32, "b": 32])
    }

    @Test func anAdminBackWithinTheGraceContinuesTheSession() {
        let minutes = Self.perPerson(Self.lesson(tutorLeaves: "2026-11-22T10:30:00Z",
                                                 tutorReturns: [("2026-11-22T10:33:00Z", "2026-11-22T10:45:00Z")]))
        // Covered 10:00–10:50: to 10:30, the grace to 10:35 (the tutor is back at 10:33), to 10:45, and its grace.
        #expect(minutes == ["tutor": 42, "a": 50, "b": 50])
    }

    @Test func anAdminBackAfterTheGraceStartsANewSession() {
        let minutes = Self.perPerson(Self.lesson(tutorLeaves: "2026-11-22T10:30:00Z",
                                                 tutorReturns: [("2026-11-22T10:40:00Z", "2026-11-22T10:45:00Z")]))
        // 10:00–10:35, then 10:40–10:50.
        #expect(minutes == ["tutor": 35, "a": 45, "b": 45])
    }

    @Test func generalUsersWithNoAdminAndNoGraceAreNotBillable() {
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-22T09:50:00Z", "m"),
            b.joined("2026-11-22T09:50:00Z", "m", "early", "VIEWER"), // waits ten minutes for the tutor
            b.joined("2026-11-22T10:00:00Z", "m", "tutor", "MODERATOR"),
            b.left("2026-11-22T10:20:00Z", "m", "tutor"),
            b.ended("2026-11-22T11:00:00Z", "m"),
        ]
        #expect(Self.perPerson(records) == ["tutor": 20, "early": 25])
    }

    @Test func anAdminMayBeAlone() {
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-22T10:00:00Z", "m"),
            b.joined("2026-11-22T10:00:00Z", "m", "tutor", "MODERATOR"),
            b.ended("2026-11-22T10:45:00Z", "m"),
        ]
        #expect(Self.perPerson(records) == ["tutor": 45])
    }

    @Test func aRoleChangeMidMeetingCounts() {
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-22T10:00:00Z", "m"),
            b.joined("2026-11-22T10:00:00Z", "m", "tutor", "MODERATOR"),
            b.joined("2026-11-22T10:00:00Z", "m", "lead", "VIEWER"),
            b.joined("2026-11-22T10:00:00Z", "m", "a", "VIEWER"),
            b.role("2026-11-22T10:10:00Z", "m", "lead", "MODERATOR"), // made a moderator: may now hold the room
            b.left("2026-11-22T10:20:00Z", "m", "tutor"),
            b.role("2026-11-22T10:30:00Z", "m", "lead", "VIEWER"), // and demoted again: the grace starts
            b.ended("2026-11-22T11:00:00Z", "m"),
        ]
        #expect(Self.perPerson(records) == ["tutor": 20, "lead": 35, "a": 35])
    }

    @Test func thePolicyAddsAdminRoles() {
        let policy = PolicyFixtures.parse("""
            preset = "live-collaboration"
            [[meters]]
            item = "live-collaboration"
            price = "0.01"
            admin_roles = ["MODERATOR", "tutor", "team-lead"]
            grace_seconds = 120
            """)
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-22T10:00:00Z", "m"),
            b.joined("2026-11-22T10:00:00Z", "m", "t", "TUTOR"),
            b.joined("2026-11-22T10:00:00Z", "m", "s", "STUDENT"),
            b.left("2026-11-22T10:10:00Z", "m", "t"),
            b.ended("2026-11-22T10:30:00Z", "m"),
        ]
        #expect(Self.perPerson(records, policy: policy) == ["t": 10, "s": 12])
    }

    @Test func personRoundingRoundsEachPersonsTime() {
        let policy = PolicyFixtures.parse("""
            preset = "live-collaboration"
            [[meters]]
            item = "live-collaboration"
            price = "0.01"
            rounding = "person"
            """)
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-22T10:00:00Z", "m"),
            b.joined("2026-11-22T10:00:00Z", "m", "t", "MODERATOR"),
            b.joined("2026-11-22T10:00:00Z", "m", "u", "MODERATOR"),
            b.left("2026-11-22T10:00:40Z", "m", "t"),
            b.left("2026-11-22T10:00:40Z", "m", "u"),
            b.ended("2026-11-22T10:30:00Z", "m"),
        ]
        // 40 s each: one minute each when rounded per person, one minute for 80 s in the bucket.
        #expect(Invoice.rate(records: records, policy: policy, period: Self.november).lines[0].quantity == ExactDecimal(Int64(2)))
        #expect(Invoice.rate(records: records, policy: Self.policy, period: Self.november).lines[0].quantity == ExactDecimal(Int64(1)))
    }
}
