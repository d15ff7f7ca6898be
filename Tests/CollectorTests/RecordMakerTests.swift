@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import Logging
import Testing
import UsageRecords

/// Records get their ids from where their line came from, and journal records say their boot.
@Suite struct RecordMakerTests {
    let line = SyntheticAkkaLog.joined(meeting: SyntheticAkkaLog.meetingID(startMs: 1), user: "w_a", ms: 1_795_000_000_000)
        .trimmingCharacters(in: .newlines)

    @Test func journalRecordsCarryTheirBootAndFileRecordsDoNot() throws {
        var processor = LineProcessor(parser: try ParserChoice.make(software: "bbb"), host: "h", source: "t", logger: Logger(label: "t"))
        let boot = "0123456789abcdef0123456789abcdef"
        let fromJournal = processor.process([LogLine(source: "journal", position: .journal(cursor: "s=1;i=2"), boot: boot, text: line)])
        // A fresh parser: the BBB parser remembers the facts it has seen and would drop a repeat.
        processor = LineProcessor(parser: try ParserChoice.make(software: "bbb"), host: "h", source: "t", logger: Logger(label: "t"))
        let fromFile = processor.process([LogLine(source: "f", position: .file(fingerprint: 7, offset: 0), text: line)])
        #expect(fromJournal.count == 1 && fromFile.count == 1)
        #expect(fromJournal.first?.extra["boot"] == .string(boot))
        #expect(fromFile.first?.extra["boot"] == nil)
        // It survives the wire.
        let decoded = try RecordCodec.decode(RecordCodec.encode(try #require(fromJournal.first)))
        #expect(decoded.extra["boot"] == .string(boot))
    }

    @Test func theSameLineAtTheSamePlaceGetsTheSameIDAndAnotherPlaceAnother() throws {
        let maker = RecordMaker(host: "h")
        let event = ParsedEvent(time: Timestamp(seconds: 1), payload: .meetingEnded(MeetingEnded(meeting: "m")))
        let a = maker.records(from: LogLine(source: "f", position: .file(fingerprint: 7, offset: 10), text: line), events: [event, event])
        let b = maker.records(from: LogLine(source: "f", position: .file(fingerprint: 7, offset: 10), text: line), events: [event, event])
        let c = maker.records(from: LogLine(source: "f", position: .file(fingerprint: 7, offset: 11), text: line), events: [event])
        #expect(a.map(\.id) == b.map(\.id))
        #expect(a[0].id != a[1].id, "two facts of one line are two records")
        #expect(c[0].id != a[0].id)
    }
}
