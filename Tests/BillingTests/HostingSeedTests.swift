import Testing
import UsageRecords
@testable import Billing

/// Seed "Billing Assumptions": weekly collation, monthly bills.
@Suite struct HostingSeedTests {
    static let policy = PolicyFixtures.hosting
    static func d(_ s: String) -> ExactDecimal { PolicyFixtures.d(s) }
    static func n(_ i: Int64) -> ExactDecimal { ExactDecimal(i) }

    /// A meeting from `from` to `to` on host bbb1.
    static func meeting(_ b: inout RecordBuilder, _ id: String, _ from: String, _ to: String, meta: [String: JSONValue] = [:],
                        parent: String? = nil) -> [UsageRecord] {
        [b.started(from, id, meta: meta, parent: parent), b.ended(to, id)]
    }

    // MARK: Rounding

    @Test(arguments: [
        ("2026-11-18T10:29:29Z", 29), ("2026-11-18T10:29:30Z", 30), ("2026-11-18T10:00:29Z", 0), ("2026-11-18T10:00:30Z", 1),
    ] as [(String, Int64)])
    func meetingLengthRoundsToTheNearestMinuteHalfUp(end: String, expected: Int64) {
        var b = RecordBuilder()
        let records = Self.meeting(&b, "m", "2026-11-18T10:00:00Z", end)
        let q = Invoice.rate(records: records, policy: PolicyFixtures.parse("""
            [[meters]]
            item = "meetings"
            measure = "meeting-hours"
            price = "0"
            minimum_hourly = "0"
            minimum_charge = "0"
            """), period: PolicyFixtures.period("2026-11"))
        #expect(q.quantities.reduce(0) { $0 + $1.quantity } == expected)
    }

    @Test(arguments: [(29, 0), (30, 1), (89, 1), (90, 2)] as [(Int64, Int64)])
    func instanceSecondsSummedPerWeekRoundAt30(seconds: Int64, expected: Int64) {
        var b = RecordBuilder()
        let start = RecordBuilder.at("2026-11-18T10:00:00Z")
        let records = [
            b.heartbeat("2026-11-18T10:00:00Z", boot: "A", size: "small"),
            b.record(start.adding(seconds: seconds).rfc3339, .hostHeartbeat(HostHeartbeat(boot: "A", size: "small", interval: 60))),
        ]
        let invoice = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-W47"))
        #expect(invoice.quantities.filter { $0.item == "instance-running" }.reduce(0) { $0 + $1.quantity } == expected)
    }

    // MARK: Instances

    @Test func runningAndStoppedAtTwoRatesPerSizeEachItsOwnLine() throws {
        var a = RecordBuilder(host: "a")
        var big = RecordBuilder(host: "big")
        var records: [UsageRecord] = []
        for h in 0...10 { records.append(a.heartbeat("2026-11-16T\(h < 10 ? "0" : "")\(h):00:00Z", boot: "X", size: "small", interval: 3600)) }
        for h in 14...16 { records.append(a.heartbeat("2026-11-16T\(h):00:00Z", boot: "Y", size: "small", interval: 3600)) }
        records.append(big.heartbeat("2026-11-16T00:00:00Z", boot: "Z", size: "large", interval: 3600))
        records.append(big.heartbeat("2026-11-16T01:00:00Z", boot: "Z", size: "large", interval: 3600))
        let invoice = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-11"))
        let rows = invoice.lines.map { "\($0.item) \($0.detail ?? "") \($0.quantity) \($0.unitPrice) \($0.amount)" }
        #expect(rows == [
            "instance-running large 60 0.006666666667 0.40",
            "instance-running small 720 0.000833333333 0.60", // 0.59999999976
            "instance-stopped small 240 0.000083333333 0.02", // 0.01999999992
        ])
    }

    @Test func aHeartbeatGapWithoutANewBootIsStillRunning() {
        var a = RecordBuilder(host: "a")
        let records = [
            a.heartbeat("2026-11-16T00:00:00Z", boot: "X", size: "small"),
            a.heartbeat("2026-11-16T02:00:00Z", boot: "X", size: "small"), // the agent was down; the host was not
        ]
        let invoice = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-11"))
        #expect(invoice.lines.filter { $0.kind == .usage }.map(\.item) == ["instance-running"])
        #expect(invoice.lines.first?.quantity == Self.n(120))
        // 0.10 is under the hosting preset's 0.50, but without [carry] since there is no chain to carry it along.
        #expect(invoice.lines.last?.kind == .usage)
    }

    // MARK: Recordings

    @Test func aRecordingUnderThreeMinutesIsBilledThree() {
        var b = RecordBuilder()
        let records = [
            b.processed("r1", "m1", step: "archive", from: "2026-11-18T11:00:00Z", to: "2026-11-18T11:00:40Z"),
            b.processed("r1", "m1", step: "process", from: "2026-11-18T11:00:30Z", to: "2026-11-18T11:01:30Z"), // overlaps: 90 s in all
            b.processed("r2", "m2", step: "process", from: "2026-11-18T12:00:00Z", to: "2026-11-18T12:10:00Z"),
        ]
        let invoice = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-11"))
        // 180 s (the minimum) + 600 s = 13 minutes at 0.60 an hour (0.01 a minute).
        #expect(invoice.lines.filter { $0.kind == .usage }.map(\.item) == ["recording-processing"])
        #expect(invoice.lines.first?.quantity == Self.n(13))
        #expect(invoice.lines.first?.amount == Self.d("0.13"))
        #expect(invoice.lines.first?.sources == ["r1", "r2"])
    }

    @Test func noRecordingNoProcessingCharge() {
        var b = RecordBuilder()
        let records = Self.meeting(&b, "m", "2026-11-18T10:00:00Z", "2026-11-18T11:00:00Z")
        let invoice = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-11"))
        #expect(invoice.lines(item: "recording-processing").isEmpty)
    }

    // MARK: Meetings and breakout rooms

    static let ratedPolicy = PolicyFixtures.parse("""
        preset = "hosting"
        [[meters]]
        item = "instance-running"
        disabled = true
        [[meters]]
        item = "instance-stopped"
        disabled = true
        [[meters]]
        item = "recording-processing"
        disabled = true
        [[meters]]
        item = "storage"
        disabled = true
        [[meters]]
        item = "meetings"
        [[meters.rates]]
        meta = "meta_size"
        equals = "large"
        price = "1.20"
        [[meters.rates]]
        meta = "meta_size"
        equals = "tiny"
        price = "0.20"
        """)

    @Test func meetingsUnderTheMinimums() {
        var b = RecordBuilder()
        let records = Self.meeting(&b, "short", "2026-11-18T10:00:00Z", "2026-11-18T10:10:00Z") // 0.05: the 0.10 minimum
            + Self.meeting(&b, "long", "2026-11-18T10:00:00Z", "2026-11-18T12:00:00Z") // 120 × 0.005 = 0.60
            + Self.meeting(&b, "large", "2026-11-18T10:00:00Z", "2026-11-18T10:30:00Z", meta: ["meta_size": .string("large")]) // 30 × 0.02
            + Self.meeting(&b, "tiny", "2026-11-18T10:00:00Z", "2026-11-18T11:00:00Z", meta: ["meta_size": .string("tiny")]) // 0.20 → 0.30 an hour
            + Self.meeting(&b, "twenty", "2026-11-18T13:00:00Z", "2026-11-18T13:20:00Z") // exactly 0.10: no minimum needed
        let invoice = Invoice.rate(records: records, policy: Self.ratedPolicy, period: PolicyFixtures.period("2026-11"))
        let rows = invoice.lines.map { "\($0.kind.rawValue) \($0.quantity) \($0.unit) \($0.unitPrice) \($0.amount) \($0.sources)" }
        #expect(rows == [
            #"usage 200 minute 0.005000000000 1.00 ["long", "tiny", "twenty"]"#,
            #"usage 30 minute 0.020000000000 0.60 ["large"]"#,
            #"minimum 1 meeting 0.10 0.10 ["short"]"#,
        ])
        #expect(invoice.total == Self.d("1.70"))
    }

    @Test func breakoutRoomsAtFifteenPercentOfTheParentWithTheirMinimum() {
        var b = RecordBuilder()
        let records = Self.meeting(&b, "p", "2026-11-18T10:00:00Z", "2026-11-18T12:00:00Z")
            + Self.meeting(&b, "p-large", "2026-11-18T10:00:00Z", "2026-11-18T12:00:00Z", meta: ["meta_size": .string("large")])
            // 20 minutes at 15% of 0.30 an hour: 0.015, under the 0.02 minimum.
            + Self.meeting(&b, "room1", "2026-11-18T10:10:00Z", "2026-11-18T10:30:00Z", parent: "p")
            // 60 minutes at 15% of 1.20 an hour: 0.18.
            + Self.meeting(&b, "room2", "2026-11-18T10:10:00Z", "2026-11-18T11:10:00Z", parent: "p-large")
        let invoice = Invoice.rate(records: records, policy: Self.ratedPolicy, period: PolicyFixtures.period("2026-11"))
        let rooms = invoice.lines(item: "breakout-rooms").map { "\($0.kind.rawValue) \($0.quantity) \($0.unitPrice) \($0.amount)" }
        #expect(rooms == ["usage 60 0.003000000000 0.18", "minimum 1 0.02 0.02"])
        // Breakout rooms are not billed as meetings too.
        #expect(invoice.lines(item: "meetings").flatMap(\.sources).sorted() == ["p", "p-large"])
    }

    // MARK: Storage

    @Test func theLargestWeeklyAverageDecidesTheMonth() {
        var b = RecordBuilder()
        let records = [
            b.started("2026-10-20T10:00:00Z", "m1", meta: ["meta_tenant": .string("acme")]),
            b.ended("2026-10-20T11:00:00Z", "m1"),
            // 2026-W45: 1000 MB all week.
            b.sample("2026-11-02T00:00:00Z", key: "r1", meeting: "m1", bytes: 1_000_000_000),
            // 2026-W46: 3000 MB for three days, then 500 MB for four: 11000/7 = 1571.43 MB.
            b.sample("2026-11-09T00:00:00Z", key: "r1", meeting: "m1", bytes: 3_000_000_000),
            b.sample("2026-11-12T00:00:00Z", key: "r1", meeting: "m1", bytes: 500_000_000),
            // 2026-W47: no sample, absent (not zero). 2026-W48: 1200 MB.
            b.sample("2026-11-23T00:00:00Z", key: "r1", meeting: "m1", bytes: 1_200_000_000),
        ]
        let invoice = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-11"))
        let line = invoice.lines(item: "storage").first
        #expect(line?.account == "acme")
        #expect(line?.quantity == Self.n(1571))
        #expect(line?.unit == "MB")
        #expect(line?.unitPrice == Self.d("0.0001")) // 0.10 per GB is 0.0001 per MB
        #expect(line?.amount == Self.d("0.16"))
        #expect(line?.cycles == ["2026-W46"])
        #expect(line?.sources == ["2026-W45=1000", "2026-W46=1571", "2026-W48=1200"])
    }

    @Test func theAverageIsTakenFromTheWeeksFirstSample() {
        var b = RecordBuilder()
        // Sampled only from Sunday noon: the week's average is that sample's, not diluted by the days before it.
        let records = [b.sample("2026-11-22T12:00:00Z", key: "r1", bytes: 700_000_000)]
        let invoice = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-11"))
        #expect(invoice.lines(item: "storage").first?.quantity == Self.n(700))
    }

    @Test(arguments: [(1_499_999, 1), (1_500_000, 2), (499_999, 0)] as [(Int64, Int64)])
    func bytesRoundToTheNearestMegabyteHalfUp(bytes: Int64, megabytes: Int64) {
        var b = RecordBuilder()
        let steps = StorageAverages.averageMegabytes([(RecordBuilder.at("2026-11-16T00:00:00Z"), bytes)],
                                                     Bucket(PolicyFixtures.period("2026-W47")), bytesPerMegabyte: 1_000_000)
        #expect(steps == megabytes)
        _ = b.sample("2026-11-16T00:00:00Z", key: "k", bytes: bytes)
    }

    @Test func theMegabyteIsASetting() {
        let mebibytes = StorageAverages.averageMegabytes([(RecordBuilder.at("2026-11-16T00:00:00Z"), 1_572_864)],
                                                         Bucket(PolicyFixtures.period("2026-W47")), bytesPerMegabyte: 1_048_576)
        #expect(mebibytes == 2) // 1.5 MiB, half up
    }

    @Test func storageSumsHostsAtEveryMoment() {
        var a = RecordBuilder(host: "a")
        var c = RecordBuilder(host: "c")
        let records = [
            a.sample("2026-11-16T00:00:00Z", key: "r1", bytes: 100_000_000),
            c.sample("2026-11-19T12:00:00Z", key: "r2", bytes: 700_000_000), // from Thursday noon: 3.5 days of 7
        ]
        let invoice = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-W47"))
        #expect(invoice.lines(item: "storage").first?.quantity == Self.n(450)) // 100 + 700 × 0.5
    }

    // MARK: Weeks and months

    @Test func aWeekThatStraddlesTwoMonthsIsBilledInTheMonthOfItsSunday() {
        var b = RecordBuilder()
        let records = Self.meeting(&b, "oct", "2026-10-27T10:00:00Z", "2026-10-27T12:00:00Z") // 2026-W44, Sunday 1 November
            + Self.meeting(&b, "nov", "2026-11-30T10:00:00Z", "2026-11-30T12:00:00Z") // 2026-W49, Sunday 6 December
        let november = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-11"))
        let december = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-12"))
        let october = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-10"))
        #expect(november.lines.flatMap(\.sources) == ["oct"])
        #expect(november.lines.first?.cycles == ["2026-W44"])
        #expect(december.lines.flatMap(\.sources) == ["nov"])
        #expect(october.lines.isEmpty)
        #expect(Collation.buckets(PolicyFixtures.period("2026-11"), .weekly).map(\.label)
            == ["2026-W44", "2026-W45", "2026-W46", "2026-W47", "2026-W48"])
    }

    @Test func isoWeek53Of2026IsBilledInJanuary2027() {
        var b = RecordBuilder()
        let records = Self.meeting(&b, "dec29", "2026-12-29T10:00:00Z", "2026-12-29T12:00:00Z")
            + Self.meeting(&b, "jan1", "2027-01-01T10:00:00Z", "2027-01-01T12:00:00Z")
        let december = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-12"))
        let january = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2027-01"))
        let week = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-W53"))
        #expect(december.lines.isEmpty)
        #expect(january.lines.first?.cycles == ["2026-W53"])
        #expect(january.lines.first?.sources == ["dec29", "jan1"])
        #expect(january.lines.first?.amount == Self.d("1.20"))
        #expect(week.lines.first?.amount == Self.d("1.20"))
    }

    // MARK: Small balances

    @Test func aBalanceTooSmallToChargeIsCarriedToTheNextMonth() {
        let policy = PolicyFixtures.parse("""
            preset = "hosting"
            [carry]
            since = "2026-11"
            [[meters]]
            item = "instance-running"
            price = "0"
            [[meters]]
            item = "instance-stopped"
            price = "0"
            [[meters]]
            item = "recording-processing"
            price = "0"
            [[meters]]
            item = "storage"
            price = "0"
            """)
        var b = RecordBuilder()
        let records = Self.meeting(&b, "nov", "2026-11-18T10:00:00Z", "2026-11-18T10:05:00Z") // 0.10 minimum
            + Self.meeting(&b, "dec", "2026-12-16T10:00:00Z", "2026-12-16T10:05:00Z") // 0.10 minimum
            + Self.meeting(&b, "jan", "2027-01-13T10:00:00Z", "2027-01-13T12:00:00Z") // 0.60
        let nov = Invoice.rate(records: records, policy: policy, period: PolicyFixtures.period("2026-11"))
        let dec = Invoice.rate(records: records, policy: policy, period: PolicyFixtures.period("2026-12"))
        let jan = Invoice.rate(records: records, policy: policy, period: PolicyFixtures.period("2027-01"))
        #expect(nov.total(account: "unassigned")?.carriedOut == Self.d("0.10"))
        #expect(nov.total == Self.d("0"))
        #expect(nov.lines.last?.kind == .carriedOut)
        #expect(dec.total(account: "unassigned")?.carriedIn == Self.d("0.10"))
        #expect(dec.total(account: "unassigned")?.carriedOut == Self.d("0.20"))
        #expect(jan.total(account: "unassigned")?.carriedIn == Self.d("0.20"))
        #expect(jan.total(account: "unassigned")?.due == Self.d("0.80"))
        #expect(jan.total == Self.d("0.80"))
        // Given by the caller instead:
        let given = Invoice.rate(records: records, policy: policy, period: PolicyFixtures.period("2027-01"),
                                 carriedIn: ["unassigned": Self.d("0.20")])
        #expect(given.total == Self.d("0.80"))
        let small = Invoice.rate(records: records, policy: policy, period: PolicyFixtures.period("2026-12"), carriedIn: [:])
        #expect(small.carriedOut == ["unassigned": Self.d("0.10")])
        // Without [carry] since, a small balance is charged rather than carried into nothing.
        let unchained = Invoice.rate(records: records, policy: Self.policy, period: PolicyFixtures.period("2026-11"))
        #expect(unchained.total == Self.d("0.10"))
    }

    // MARK: The bundled sample

    @Test func theSampleMeetingBillsTheMinimum() {
        // 152 s is 3 minutes; at 0.30 an hour that is 0.015, so the 0.10 minimum applies.
        let invoice = Invoice.rate(records: UsageReportTests.sampleRecords(), policy: Self.policy, period: PolicyFixtures.period("2023-11"))
        let line = invoice.lines(item: "meetings").first
        #expect(line?.kind == .minimum)
        #expect(line?.amount == Self.d("0.10"))
        #expect(line?.sources == [UsageReportTests.meeting])
        #expect(line?.cycles == ["2023-W44"]) // Tuesday 31 October 2023: its week's Sunday is 5 November
    }

    @Test func theSamplesParticipantMinutes() {
        // 138 s for the moderator, 119 s for the viewer while the moderator was there: 257 s, 4 minutes.
        let invoice = Invoice.rate(records: UsageReportTests.sampleRecords(), policy: PolicyFixtures.liveCollaboration,
                                   period: PolicyFixtures.period("2023-10"))
        #expect(invoice.lines.first?.quantity == Self.n(4))
    }

    @Test func aMeetingWhoseStartIsNotInTheEvidenceIsNotCharged() {
        var b = RecordBuilder()
        let records = [b.joined("2026-11-18T10:00:00Z", "m", "u", "MODERATOR"), b.ended("2026-11-18T11:00:00Z", "m")]
        let invoice = Invoice.rate(records: records, policy: Self.ratedPolicy, period: PolicyFixtures.period("2026-11"))
        #expect(invoice.lines(item: "meetings").isEmpty)
    }
}
