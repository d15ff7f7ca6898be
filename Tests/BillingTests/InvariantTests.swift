import Testing
import TestThreads
import UsageRecords
@testable import Billing
import Workloads

/// Property tests: the order records arrive in and duplicates among them never change an invoice
/// (DESIGN.md principles 1 to 3).
@Suite(.ownThreads) struct InvariantTests {
    static let records = SyntheticUsage.records(SyntheticUsage.Shape(hosts: 3, days: 7, firstDay: CivilDate(year: 2026, month: 11, day: 26)))

    static let everything = PolicyFixtures.parse("""
        preset = "hosting"
        [accounts]
        fallback = "house"
        [[accounts.external]]
        pattern = "*:*"
        account = "{1}"
        [[meters]]
        item = "instance-running"
        sizes = { small = "0.05", medium = "0.10", large = "0.40" }
        [[meters]]
        item = "instance-stopped"
        price = "0.005"
        [[meters]]
        item = "recording-processing"
        price = "0.60"
        [[meters]]
        item = "storage"
        price = "0.10"
        [[meters]]
        item = "live"
        measure = "participant-minutes"
        price = "0.002"
        [[meters]]
        item = "whiteboard"
        measure = "whiteboard-minutes"
        lines = "per-cycle"
        price = "1.50"
        per = "thousand-minutes"
        [[prepaid]]
        account = "acct1"
        item = "whiteboard"
        quantity = 500
        from = "2026-11-01"
        """)

    static let policies: [(String, BillingPolicy)] = [
        ("hosting", PolicyFixtures.hosting), ("whiteboard", PolicyFixtures.whiteboard),
        ("live-collaboration", PolicyFixtures.liveCollaboration), ("everything", everything),
    ]

    @Test func theWorkloadIsBillable() {
        let invoice = Invoice.rate(records: Self.records, policy: Self.everything, period: PolicyFixtures.period("2026-11"))
        let items = Set(invoice.lines.map(\.item))
        #expect(items.isSuperset(of: ["instance-running", "recording-processing", "meetings", "breakout-rooms", "storage", "live", "whiteboard"]))
        #expect(invoice.lines.contains { $0.kind == .prepaid })
        #expect(invoice.total > .zero)
    }

    @Test(arguments: 0..<3 as Range<UInt64>)
    func orderAndDuplicatesNeverChangeAnInvoice(seed: UInt64) {
        let shuffled = Self.records.shuffledWithDuplicates(seed: seed)
        for (name, policy) in Self.policies {
            for period in ["2026-11", "2026-W49"] {
                let p = PolicyFixtures.period(period)
                let expected = Invoice.rate(records: Self.records, policy: policy, period: p)
                let got = Self.sameDuplicateCount(Invoice.rate(records: shuffled, policy: policy, period: p), as: expected)
                #expect(got.lines == expected.lines, "\(name) \(period)")
                #expect(got.quantities == expected.quantities, "\(name) \(period)")
                #expect(got.total == expected.total, "\(name) \(period)")
                for format in InvoiceFormat.allCases {
                    let same = InvoiceRendering.render(got, format: format) == InvoiceRendering.render(expected, format: format)
                    #expect(same, "\(name) \(period) \(format)")
                }
            }
        }
    }

    /// The one figure duplicates may change: how many there were.
    static func sameDuplicateCount(_ invoice: Invoice, as other: Invoice) -> Invoice {
        var i = invoice
        #expect(i.notes.duplicateRecords >= other.notes.duplicateRecords)
        i.notes.duplicateRecords = other.notes.duplicateRecords
        return i
    }

    /// Random, messy records: joins without leaves, leaves without joins, second ends, records for
    /// meetings that never started, all at random instants.
    static func messy(seed: UInt64) -> [UsageRecord] {
        var g = SeededGenerator(seed: seed)
        var out: [UsageRecord] = []
        let base = RecordBuilder.at("2026-11-29T20:00:00Z")
        for i in 0..<300 {
            let t = base.adding(seconds: Int64(g.next() % 30_000))
            let meeting = "m\(g.next() % 5)"
            let user = "u\(g.next() % 6)"
            let payload: Payload = switch g.next() % 12 {
            case 0: .meetingStarted(MeetingStarted(meeting: meeting, meta: ["meta_tenant": .string("t\(g.next() % 2)")],
                                                   parent: g.next() % 4 == 0 ? "m0" : nil))
            case 1: .meetingEnded(MeetingEnded(meeting: meeting))
            case 2, 3: .userJoined(UserJoined(meeting: meeting, user: user, role: g.next() % 3 == 0 ? "MODERATOR" : "VIEWER",
                                              client: ["mobile", "windows", "HTML5"][Int(g.next() % 3)]))
            case 4, 5: .userLeft(UserLeft(meeting: meeting, user: user))
            case 6: .userRole(UserRoleChanged(meeting: meeting, user: user, role: "MODERATOR"))
            case 7: .activityStarted(Activity(meeting: meeting, user: g.next() % 2 == 0 ? user : nil, activity: "whiteboard"))
            case 8: .activityStopped(Activity(meeting: meeting, user: g.next() % 2 == 0 ? user : nil, activity: "whiteboard"))
            case 9: .clientBackground(ClientVisibility(meeting: meeting, user: user))
            case 10: .clientForeground(ClientVisibility(meeting: meeting, user: user))
            default: .hostHeartbeat(HostHeartbeat(boot: "b\(g.next() % 2)", size: "small", interval: 300))
            }
            out.append(UsageRecord(id: RecordID(rawValue: "h:messy:\(i)"), time: t, host: "h", payload: payload))
        }
        return out
    }

    @Test(arguments: 0..<12 as Range<UInt64>)
    func messyRecordsRateTheSameInAnyOrder(seed: UInt64) {
        let records = Self.messy(seed: seed)
        let shuffled = records.shuffledWithDuplicates(seed: seed &+ 99)
        for (name, policy) in Self.policies {
            for period in ["2026-11", "2026-11-30", "2026-W49"] {
                let p = PolicyFixtures.period(period)
                let expected = Invoice.rate(records: records, policy: policy, period: p)
                let got = Self.sameDuplicateCount(Invoice.rate(records: shuffled, policy: policy, period: p), as: expected)
                #expect(got == expected, "\(name) \(period)")
            }
            #expect(UsageReport.meetings(from: shuffled, in: PolicyFixtures.period("2026-11-30"))
                == UsageReport.meetings(from: records, in: PolicyFixtures.period("2026-11-30")))
        }
    }

    @Test func aDayAWeekAndAMonthAgreeOnWhiteboardMinutes() {
        // Daily cycles: the month's minutes are the sum of its days'.
        let month = Invoice.rate(records: Self.records, policy: PolicyFixtures.whiteboard, period: PolicyFixtures.period("2026-11"))
        var days: Int64 = 0
        for d in 26...30 {
            let day = Invoice.rate(records: Self.records, policy: PolicyFixtures.whiteboard, period: PolicyFixtures.period("2026-11-\(d)"))
            days += day.quantities.reduce(0) { $0 + $1.quantity }
        }
        #expect(month.quantities.reduce(0) { $0 + $1.quantity } == days)
    }
}
