import Testing
import UsageRecords
@testable import Billing

@Suite struct UsageReportTests {
    static let meeting = "8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700"

    /// The records the parser makes of samples/bbb-apps-akka.log, written by hand.
    static func sampleRecords() -> [UsageRecord] {
        var b = RecordBuilder()
        return [
            b.started("2023-10-31T16:52:38.093Z", meeting, external: "random-9019868", name: "random-9019868"),
            b.joined("2023-10-31T16:52:44.638Z", meeting, "w_xfsb9gxtlfom", "MODERATOR", client: "HTML5"),
            b.joined("2023-10-31T16:52:53.894Z", meeting, "w_uxw0dzhtvk0l", "VIEWER", client: "HTML5"),
            b.left("2023-10-31T16:54:53.000Z", meeting, "w_uxw0dzhtvk0l"),
            b.left("2023-10-31T16:55:03.008Z", meeting, "w_xfsb9gxtlfom"),
            b.ended("2023-10-31T16:55:10.209Z", meeting),
        ]
    }

    @Test func sampleMeetingFigures() throws {
        let report = UsageReport.meetings(from: Self.sampleRecords(), in: try Period.parse("2023-10"))
        #expect(report.count == 1)
        let m = try #require(report.first)
        #expect(m.meeting == Self.meeting)
        #expect(m.external == "random-9019868")
        #expect(m.host == "bbb1")
        #expect(m.start == RecordBuilder.at("2023-10-31T16:52:38.093Z"))
        #expect(m.end == RecordBuilder.at("2023-10-31T16:55:10.209Z"))
        #expect(m.seconds == 152)
        #expect(m.minutes == 3)
        #expect(m.users.map(\.user) == ["w_xfsb9gxtlfom", "w_uxw0dzhtvk0l"])
        #expect(m.users.map(\.role) == ["MODERATOR", "VIEWER"])
        #expect(m.users.map(\.seconds) == [138, 119])
        #expect(m.users.map(\.minutes) == [2, 2])
        #expect(m.users[0].intervals.count == 1)
        #expect(m.users[0].intervals[0].closure == .left)
    }

    @Test(arguments: 0..<20 as Range<UInt64>)
    func orderAndDuplicatesChangeNothing(seed: UInt64) throws {
        let period = try Period.parse("2023-10")
        let expected = UsageReport.meetings(from: Self.sampleRecords(), in: period)
        let shuffled = UsageReport.meetings(from: Self.sampleRecords().shuffledWithDuplicates(seed: seed), in: period)
        #expect(shuffled == expected)
    }

    @Test func secondJoinAndSecondEndChangeNothing() throws {
        var b = RecordBuilder(prefix: "extra")
        let records = Self.sampleRecords() + [
            b.joined("2023-10-31T16:53:00Z", Self.meeting, "w_xfsb9gxtlfom", "MODERATOR"), // the other route's copy
            b.ended("2023-10-31T16:58:00Z", Self.meeting),
        ]
        let derived = UsageReport.derive(from: records, in: try Period.parse("2023-10"))
        #expect(derived.meetings[0].seconds == 152)
        #expect(derived.meetings[0].users.map(\.seconds) == [138, 119])
        #expect(derived.notes.repeatedJoins == 1)
        #expect(derived.notes.repeatedEnds == 1)
    }

    @Test func leaveWithoutJoinIsCountedAndIgnored() throws {
        var b = RecordBuilder(prefix: "extra")
        let records = Self.sampleRecords() + [b.left("2023-10-31T16:53:30Z", Self.meeting, "ghost")]
        let derived = UsageReport.derive(from: records, in: try Period.parse("2023-10"))
        #expect(derived.meetings[0].users.count == 2)
        #expect(derived.notes.leavesWithoutJoin == 1)
    }

    @Test func peopleStillPresentLeaveAtTheEnd() throws {
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-22T10:00:00Z", "m"),
            b.joined("2026-11-22T10:01:00Z", "m", "t", "MODERATOR"),
            b.ended("2026-11-22T10:31:00Z", "m"),
        ]
        let derived = UsageReport.derive(from: records, in: try Period.parse("2026-11-22"))
        let u = try #require(derived.meetings.first?.users.first)
        #expect(u.seconds == 1800)
        #expect(u.intervals[0].closure == .ended)
        #expect(derived.notes.presencesClosedAtEnd == 1)
    }

    @Test func rebootClosesAtTheLastSignOfLife() throws {
        var b = RecordBuilder()
        let records = [
            b.heartbeat("2026-11-22T09:59:00Z", boot: "A"),
            b.started("2026-11-22T10:00:00Z", "m"),
            b.joined("2026-11-22T10:00:10Z", "m", "t", "MODERATOR"),
            b.heartbeat("2026-11-22T10:00:00Z", boot: "A"),
            b.heartbeat("2026-11-22T10:01:00Z", boot: "A"),
            b.heartbeat("2026-11-22T10:02:00Z", boot: "A"),
            b.heartbeat("2026-11-22T10:09:00Z", boot: "B"), // rebooted
            b.heartbeat("2026-11-22T10:10:00Z", boot: "B"),
        ]
        let derived = UsageReport.derive(from: records, in: try Period.parse("2026-11-22"))
        let m = try #require(derived.meetings.first)
        #expect(m.end == RecordBuilder.at("2026-11-22T10:02:00Z"))
        #expect(m.closure == .hostRebooted)
        #expect(m.seconds == 120)
        #expect(m.users[0].seconds == 110)
        #expect(m.users[0].intervals[0].closure == .hostRebooted)
        #expect(derived.notes.meetingsClosedByReboot == 1)
    }

    @Test func silentHostClosesAtItsLastHeartbeat() throws {
        var b = RecordBuilder()
        var other = RecordBuilder(host: "bbb2")
        let records = [
            b.heartbeat("2026-11-22T10:00:00Z", boot: "A"),
            b.started("2026-11-22T10:00:30Z", "m"),
            b.heartbeat("2026-11-22T10:01:00Z", boot: "A"),
            other.heartbeat("2026-11-22T12:00:00Z", boot: "Z"), // the evidence goes on elsewhere
        ]
        let derived = UsageReport.derive(from: records, in: try Period.parse("2026-11-22"))
        let m = try #require(derived.meetings.first)
        #expect(m.closure == .hostSilent)
        #expect(m.end == RecordBuilder.at("2026-11-22T10:01:00Z"))
        #expect(m.seconds == 30)
        #expect(derived.hosts.first { $0.host == "bbb1" }?.silent == true)
    }

    @Test func openMeetingCountsToTheLastHeartbeat() throws {
        var b = RecordBuilder()
        let records = [
            b.heartbeat("2026-11-22T10:00:00Z", boot: "A"),
            b.started("2026-11-22T10:00:30Z", "m"),
            b.heartbeat("2026-11-22T10:05:00Z", boot: "A", interval: 300),
        ]
        let m = try #require(UsageReport.meetings(from: records, in: try Period.parse("2026-11-22")).first)
        #expect(m.end == nil)
        #expect(m.closure == .open)
        #expect(m.seconds == 270)
    }

    @Test func clipsToThePeriod() throws {
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-21T23:50:00Z", "m"),
            b.joined("2026-11-21T23:55:00Z", "m", "u", "MODERATOR"),
            b.left("2026-11-22T00:10:00Z", "m", "u"),
            b.ended("2026-11-22T00:20:00Z", "m"),
        ]
        let day = UsageReport.meetings(from: records, in: try Period.parse("2026-11-22"))
        #expect(day.map(\.seconds) == [1200])
        #expect(day[0].users.map(\.seconds) == [600])
        #expect(day[0].users[0].intervals[0].start == RecordBuilder.at("2026-11-21T23:55:00Z"))
        let before = UsageReport.meetings(from: records, in: try Period.parse("2026-11-21"))
        #expect(before.map(\.seconds) == [600])
        #expect(UsageReport.meetings(from: records, in: try Period.parse("2026-11-23")).isEmpty)
    }

    @Test func roleChangeIsKept() throws {
        var b = RecordBuilder()
        let records = [
            b.started("2026-11-22T10:00:00Z", "m"),
            b.joined("2026-11-22T10:00:00Z", "m", "u", "VIEWER"),
            b.role("2026-11-22T10:05:00Z", "m", "u", "MODERATOR"),
            b.ended("2026-11-22T10:10:00Z", "m"),
        ]
        let u = try #require(UsageReport.meetings(from: records, in: try Period.parse("2026-11-22")).first?.users.first)
        #expect(u.role == "MODERATOR")
        #expect(u.intervals[0].role == "VIEWER")
        #expect(u.intervals[0].roleChanges == [RoleChange(time: RecordBuilder.at("2026-11-22T10:05:00Z"), role: "MODERATOR")])
    }
}
