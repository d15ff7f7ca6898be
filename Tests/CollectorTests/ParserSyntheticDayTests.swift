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
