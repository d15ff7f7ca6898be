import Testing
import UsageRecords
@testable import Billing

/// Seed "Whiteboard Duration Billing Explanation" (Tencent Cloud TIW).
@Suite struct WhiteboardSeedTests {
    static let policy = PolicyFixtures.whiteboard
    static let day = PolicyFixtures.period("2026-11-22")

    static func minutes(_ invoice: Invoice) -> Int64 {
        invoice.quantities.filter { $0.item == "whiteboard" }.reduce(0) { $0 + $1.quantity }
    }

    /// A lesson from 10:00 with the whiteboard initialised at its start and people as given.
    static func lesson(minutes length: Int, people: [(user: String, from: String, to: String, client: String?)],
                       extra: (inout RecordBuilder) -> [UsageRecord] = { _ in [] }) -> [UsageRecord] {
        var b = RecordBuilder()
        let end = "2026-11-22T10:\(length < 10 ? "0" : "")\(length):00Z"
        var r = [
            b.started("2026-11-22T10:00:00Z", "m", meta: ["meta_tenant": .string("school")]),
            b.whiteboard("2026-11-22T10:00:00Z", "m", nil, started: true),
        ]
        for p in people {
            r.append(b.joined(p.from, "m", p.user, p.user == "teacher" ? "MODERATOR" : "VIEWER", client: p.client))
            r.append(b.left(p.to, "m", p.user))
        }
        r += extra(&b)
        r.append(b.ended(end, "m"))
        return r
    }

    @Test func example1_1000PeopleFor40MinutesAre40000Minutes() {
        let people = (0..<1000).map { i in (user: i == 0 ? "teacher" : "student\(i)", from: "2026-11-22T10:00:00Z",
                                            to: "2026-11-22T10:40:00Z", client: "HTML5" as String?) }
        let invoice = Invoice.rate(records: Self.lesson(minutes: 40, people: people), policy: Self.policy, period: Self.day)
        #expect(Self.minutes(invoice) == 40_000)
        // 1.50 USD per thousand minutes: 40 × 1.50.
        #expect(invoice.lines.map(\.amount.description) == ["60.00"])
        #expect(invoice.lines.first?.unitPrice.description == "0.001500000000")
    }

    @Test func example2_40Plus30Plus20Are90Minutes() {
        let invoice = Invoice.rate(records: Self.lesson(minutes: 40, people: [
            ("teacher", "2026-11-22T10:00:00Z", "2026-11-22T10:40:00Z", "HTML5"),
            ("a", "2026-11-22T10:00:00Z", "2026-11-22T10:30:00Z", "HTML5"),
            ("b", "2026-11-22T10:10:00Z", "2026-11-22T10:30:00Z", "HTML5"),
        ]), policy: Self.policy, period: Self.day)
        #expect(Self.minutes(invoice) == 90)
        #expect(invoice.lines.first?.amount.description == "0.14") // 0.135, half up
    }

    @Test func example3_20MinuteLessonAndAStudentFrom1015To1017Are22Minutes() {
        let invoice = Invoice.rate(records: Self.lesson(minutes: 20, people: [
            ("teacher", "2026-11-22T10:00:00Z", "2026-11-22T10:20:00Z", "HTML5"),
            ("a", "2026-11-22T10:15:00Z", "2026-11-22T10:17:00Z", "HTML5"),
        ]), policy: Self.policy, period: Self.day)
        #expect(Self.minutes(invoice) == 22)
    }

    @Test func aSlotWithAnyUsageCountsOneWholeMinute() {
        // 40 seconds across the 10:05 boundary touch two slots; 10 seconds inside one touch one.
        let invoice = Invoice.rate(records: Self.lesson(minutes: 20, people: [
            ("a", "2026-11-22T10:04:50Z", "2026-11-22T10:05:30Z", "HTML5"),
            ("b", "2026-11-22T10:07:10Z", "2026-11-22T10:07:20Z", "HTML5"),
        ]), policy: Self.policy, period: Self.day)
        #expect(Self.minutes(invoice) == 3)
    }

    /// Longer slots count all their minutes: 20 minutes of use in 5-minute slots are 20 minutes,
    /// and a slot only touched counts its 5. Slots that are not whole minutes are refused.
    @Test func longerSlotsCountAllTheirMinutes() throws {
        let fiveMinutes = PolicyFixtures.parse("""
            preset = "whiteboard"
            [[meters]]
            item = "whiteboard"
            slot_seconds = 300
            """)
        let twenty = Invoice.rate(records: Self.lesson(minutes: 20, people: [("teacher", "2026-11-22T10:00:00Z", "2026-11-22T10:20:00Z", "HTML5")]),
                                  policy: fiveMinutes, period: Self.day)
        #expect(Self.minutes(twenty) == 20)
        let touched = Invoice.rate(records: Self.lesson(minutes: 20, people: [("teacher", "2026-11-22T10:00:00Z", "2026-11-22T10:01:00Z", "HTML5")]),
                                   policy: fiveMinutes, period: Self.day)
        #expect(Self.minutes(touched) == 5)
        #expect(throws: (any Error).self) {
            try BillingPolicy.parse(text: "preset = \"whiteboard\"\n[[meters]]\nitem = \"whiteboard\"\nslot_seconds = 30\n", path: "b.toml")
        }
    }

    @Test func noWhiteboardNoMinutes() {
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-22T10:00:00Z", "m"),
            b.joined("2026-11-22T10:00:00Z", "m", "t", "MODERATOR"),
            b.ended("2026-11-22T10:40:00Z", "m"),
        ]
        #expect(Invoice.rate(records: records, policy: Self.policy, period: Self.day).lines.isEmpty)
    }

    @Test func initialisedLaterCountsFromThen() {
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-22T10:00:00Z", "m"),
            b.joined("2026-11-22T10:00:00Z", "m", "t", "MODERATOR"),
            b.whiteboard("2026-11-22T10:25:00Z", "m", "t", started: true), // watching counts: no operations needed
            b.ended("2026-11-22T10:40:00Z", "m"),
        ]
        #expect(Self.minutes(Invoice.rate(records: records, policy: Self.policy, period: Self.day)) == 15)
    }

    @Test func terminationStopsAtOnce() {
        let records = Self.lesson(minutes: 40, people: [("teacher", "2026-11-22T10:00:00Z", "2026-11-22T10:40:00Z", "HTML5")]) { b in
            [b.whiteboard("2026-11-22T10:25:00Z", "m", nil, started: false)]
        }
        #expect(Self.minutes(Invoice.rate(records: records, policy: Self.policy, period: Self.day)) == 25)
    }

    @Test(arguments: [
        ("mobile", 33), // paused from 10:13 (3 minutes after 10:10) to 10:20
        ("HTML5", 33), // the web: the same
        ("macOS", 33),
        ("windows", 40), // Windows bills from initialisation
        ("Windows", 40),
    ] as [(String, Int64)])
    func billingPausesThreeMinutesAfterGoingToTheBackground(client: String, expected: Int64) {
        let records = Self.lesson(minutes: 40, people: [("teacher", "2026-11-22T10:00:00Z", "2026-11-22T10:40:00Z", client)]) { b in
            [b.background("2026-11-22T10:10:00Z", "m", "teacher"), b.foreground("2026-11-22T10:20:00Z", "m", "teacher")]
        }
        #expect(Self.minutes(Invoice.rate(records: records, policy: Self.policy, period: Self.day)) == expected)
    }

    @Test func aShortTripToTheBackgroundChangesNothing() {
        let records = Self.lesson(minutes: 40, people: [("teacher", "2026-11-22T10:00:00Z", "2026-11-22T10:40:00Z", "mobile")]) { b in
            [b.background("2026-11-22T10:10:00Z", "m", "teacher"), b.foreground("2026-11-22T10:12:59Z", "m", "teacher")]
        }
        #expect(Self.minutes(Invoice.rate(records: records, policy: Self.policy, period: Self.day)) == 40)
    }

    @Test func stillInTheBackgroundWhenTheLessonEnds() {
        let records = Self.lesson(minutes: 40, people: [("teacher", "2026-11-22T10:00:00Z", "2026-11-22T10:40:00Z", "mobile")]) { b in
            [b.background("2026-11-22T10:30:00Z", "m", "teacher")]
        }
        #expect(Self.minutes(Invoice.rate(records: records, policy: Self.policy, period: Self.day)) == 33)
    }

    @Test func postpaidIsDeductedDaily() {
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-21T23:50:00Z", "m", meta: ["meta_tenant": .string("school")]),
            b.whiteboard("2026-11-21T23:50:00Z", "m", nil, started: true),
            b.joined("2026-11-21T23:50:00Z", "m", "t", "MODERATOR"),
            b.ended("2026-11-22T00:30:00Z", "m"),
        ]
        let invoice = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-11"))
        #expect(invoice.lines.map(\.cycles) == [["2026-11-21"], ["2026-11-22"]])
        #expect(invoice.lines.map(\.quantity) == [ExactDecimal(Int64(10)), ExactDecimal(Int64(30))])
        #expect(invoice.lines.map(\.amount.description) == ["0.02", "0.05"]) // 0.015 and 0.045, each half up
    }

    @Test func aPrepaidPackageIsDrawnDownFirst() {
        let policy = PolicyFixtures.parse("""
            preset = "whiteboard"
            [[prepaid]]
            account = "school"
            item = "whiteboard"
            quantity = 100
            from = "2026-11-01"
            """)
        var b = RecordBuilder()
        var records: [UsageRecord] = []
        for (day, length) in [("20", 90), ("21", 40), ("22", 40)] {
            let id = "m\(day)"
            records += [
                b.started("2026-11-\(day)T10:00:00Z", id, meta: ["meta_tenant": .string("school")]),
                b.whiteboard("2026-11-\(day)T10:00:00Z", id, nil, started: true),
                b.joined("2026-11-\(day)T10:00:00Z", id, "t", "MODERATOR"),
                b.ended("2026-11-\(day)T\(10 + length / 60):\(length % 60 < 10 ? "0" : "")\(length % 60):00Z", id),
            ]
        }
        // The 20th draws 90 of the 100 minutes, the 21st draws the last 10 and pays for 30.
        let on21 = Invoice.rate(records: records, policy: policy, period: PolicyFixtures.period("2026-11-21"))
        #expect(on21.lines.map(\.kind) == [.usage, .prepaid])
        #expect(on21.lines.map(\.quantity) == [ExactDecimal(Int64(30)), ExactDecimal(Int64(10))])
        #expect(on21.lines.first { $0.kind == .prepaid }?.amount.isZero == true)
        let on22 = Invoice.rate(records: records, policy: policy, period: PolicyFixtures.period("2026-11-22"))
        #expect(on22.lines.map(\.kind) == [.usage])
        let month = Invoice.rate(records: records, policy: policy, period: PolicyFixtures.period("2026-11"))
        #expect(month.lines.filter { $0.kind == .prepaid }.reduce(ExactDecimal.zero) { $0 + $1.quantity } == ExactDecimal(Int64(100)))
        #expect(month.lines.filter { $0.kind == .usage }.reduce(ExactDecimal.zero) { $0 + $1.quantity } == ExactDecimal(Int64(70)))
    }
}
