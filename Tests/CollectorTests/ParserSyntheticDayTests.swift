import Foundation
import Testing
import TestThreads
import UsageRecords
@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads

/// A made-up day of a busy host (SyntheticBBBDay): thousands of meetings, tens of thousands of
/// people, bbb-web's copies of akka-apps' facts, recordings, lines cut short, and mostly lines that
/// are not usage. The parser must make exactly the records written out beside it.
@Suite("Parser: a synthetic day of BigBlueButton logs", .ownThreads)
struct ParserSyntheticDayTests {
    @Test("Every record of the day, in order, and every skip counted")
    func wholeDay() throws {
        let day = SyntheticBBBDay.make(meetings: 2_000, seed: 7, noise: 3)
        #expect(day.users >= 20_000)
        var parser = try ParserChoice.make(software: "bbb", options: ParserFixtures.utc)
        var events: [ParsedEvent] = []
        var skips: [String: Int] = [:]
        var lines = 0
        for line in ParserFixtures.lines(day.text) {
            lines += 1
            switch parser.parse(line) {
            case .events(let e): events += e
            case .skipped(let r): skips[r.code, default: 0] += 1
            case .ignored: break
            }
        }
        #expect(lines == day.lineCount)
        #expect(skips == day.expectedSkips)
        #expect(events.count == day.expected.count)
        var shown = 0
        for (i, (got, want)) in zip(events, day.expected).enumerated() where got != want && shown < 5 {
            shown += 1
            Issue.record("record \(i): got \(got), want \(want)")
        }
        print("synthetic day: \(lines) lines, \(day.meetings) meetings, \(day.users) people, \(events.count) records, skips \(skips)")
    }

    @Test("auto reads the day as bbb does")
    func autoAgrees() throws {
        let day = SyntheticBBBDay.make(meetings: 200, seed: 3)
        var bbb = try ParserChoice.make(software: "bbb", options: ParserFixtures.utc)
        var auto = try ParserChoice.make(software: "auto", options: ParserFixtures.utc)
        let lines = ParserFixtures.lines(day.text)
        #expect(ParserFixtures.outcomes(&bbb, lines) == ParserFixtures.outcomes(&auto, lines))
    }
}

/// The same day with the metadata BigBlueButton front ends send (a dozen `meta_*` keys, names in
/// many scripts with quotes and backslashes), and a third of the lines usage: the parser still
/// makes exactly the records written out beside it, and the codec carries each unchanged.
@Suite("Parser: a realistic day of BigBlueButton logs", .ownThreads)
struct ParserRealisticDayTests {
    @Test("Every record of a realistic day, in order, through the codec and back")
    func realisticDay() throws {
        let day = SyntheticBBBDay.make(meetings: 300, seed: 11, noise: 1, metadata: .realistic)
        var parser = try ParserChoice.make(software: "bbb", options: ParserFixtures.utc)
        var events: [ParsedEvent] = []
        var skips: [String: Int] = [:]
        var lines = 0
        let maker = RecordMaker(host: "bbb1")
        var roundTrips = 0
        for line in ParserFixtures.lines(day.text) {
            lines += 1
            switch parser.parse(line) {
            case .events(let e):
                events += e
                for record in maker.records(from: line, events: e) {
                    let decoded = try RecordCodec.decode(RecordCodec.encode(record))
                    #expect(decoded == record)
                    roundTrips += 1
                }
            case .skipped(let r): skips[r.code, default: 0] += 1
            case .ignored: break
            }
        }
        #expect(lines == day.lineCount)
        #expect(skips == day.expectedSkips)
        #expect(events == day.expected)
        #expect(roundTrips == events.count)
        // About a third of the lines are usage facts.
        let share = Double(events.count) / Double(lines)
        #expect(share > 0.2 && share < 0.5, "usage share \(share)")
        let started = events.compactMap { e -> MeetingStarted? in if case .meetingStarted(let m) = e.payload { m } else { nil } }
        #expect(started.contains { $0.meta.count >= 12 && $0.name?.contains("\"") == true })
    }
}
