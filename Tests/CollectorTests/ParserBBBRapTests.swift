import Testing
import UsageRecords
@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads

/// The recording worker's steps (bbb-rap, LOG-FORMATS.md §4.1).
@Suite("Parser: BigBlueButton recording processing")
struct ParserBBBRapTests {
    typealias F = ParserFixtures
    static let id = "301476b025f8b7c33088ad890d0231b542833719-1657177813365"

    /// Journal entries of bbb-rap: message alone, the journal's time.
    static func journal(_ entries: [(String, String)]) -> [ParseOutcome] {
        var parser = BBBParser(options: F.utc)
        return entries.map { time, message in parser.parse(F.line(message, time: F.t(time), origin: "bbb-rap")) }
    }

    @Test("Started and Ended worker make one record per step, with the format the worker ran")
    func steps() {
        let o = Self.journal([
            ("2022-07-07T08:40:00.000Z", "Started worker archive for \(Self.id)"),
            ("2022-07-07T08:40:01.000Z", "Running archive worker for \(Self.id)"),
            ("2022-07-07T08:40:09.500Z", "Successfully archived \(Self.id)"),
            ("2022-07-07T08:40:09.600Z", "Ended worker archive for \(Self.id) with result true"),
            ("2022-07-07T08:40:09.700Z", "Scheduling next step for archive"),
            ("2022-07-07T08:40:09.800Z", #"Enqueueing sanity worker with {:meeting_id=>"\#(Self.id)", :single_step=>false}"#),
            ("2022-07-07T08:51:51.000Z", "Started worker process for \(Self.id)"),
            ("2022-07-07T08:51:51.100Z", "Running process worker for \(Self.id):presentation"),
            ("2022-07-07T08:55:25.000Z", "Process format succeeded for \(Self.id):presentation"),
            ("2022-07-07T08:55:25.000Z", "Process took 213624ms"),
            ("2022-07-07T08:55:25.100Z", "Ended worker process for \(Self.id) with result false"),
            ("2022-07-07T08:55:25.200Z", "Worker process for \(Self.id) failed with result false"),
            ("2022-07-07T08:55:25.300Z", #"done: (Job{rap:process} | BigBlueButton::Resque::ProcessWorker | [{"meeting_id"=>"\#(Self.id)"}])"#),
        ])
        #expect(F.shorts(o) == "0 0 - 1 - - 0 0 - 0 1 - -")
        #expect(F.events(o) == [
            ParsedEvent(time: F.t("2022-07-07T08:40:09.600Z"), payload: .recordingProcessed(RecordingProcessed(
                recording: Self.id, meeting: Self.id, step: "archive", started: F.t("2022-07-07T08:40:00.000Z"), ended: F.t("2022-07-07T08:40:09.600Z"))),
                extra: ["success": .bool(true)]),
            ParsedEvent(time: F.t("2022-07-07T08:55:25.100Z"), payload: .recordingProcessed(RecordingProcessed(
                recording: Self.id, meeting: Self.id, step: "process", started: F.t("2022-07-07T08:51:51.000Z"), ended: F.t("2022-07-07T08:55:25.100Z"))),
                extra: ["success": .bool(false), "format": .string("presentation")]),
        ])
    }

    @Test("A halted archive (no recording marks, 2.7+) still took its time")
    func halted() {
        let o = Self.journal([
            ("2023-11-28T13:57:10.000Z", "Started worker archive for \(Self.id)"),
            ("2023-11-28T13:57:18.000Z", "Meeting \(Self.id) had no recording marks"),
            ("2023-11-28T13:57:18.000Z", "Ended worker archive for \(Self.id) with worker halt. Following steps will not be run."),
        ])
        #expect(F.events(o).map(\.extra) == [["halted": .bool(true)]])
    }

    @Test("Two jobs of one step (two formats) pair first in, first out; pids do not matter")
    func twoFormats() {
        let o = Self.journal([
            ("2024-01-01T10:00:00.000Z", "Started worker publish for \(Self.id)"),
            ("2024-01-01T10:00:00.100Z", "Running publish worker for \(Self.id):presentation"),
            ("2024-01-01T10:00:01.000Z", "Started worker publish for \(Self.id)"),
            ("2024-01-01T10:00:01.100Z", "Running publish worker for \(Self.id):video"),
            ("2024-01-01T10:00:05.000Z", "Ended worker publish for \(Self.id) with result true"),
            ("2024-01-01T10:00:09.000Z", "Ended worker publish for \(Self.id) with result true"),
        ])
        let steps = F.events(o).compactMap { e -> (String?, Timestamp)? in
            guard case .recordingProcessed(let p) = e.payload else { return nil }
            return (e.extra["format"]?.stringValue, p.started)
        }
        #expect(steps.map(\.0) == ["presentation", "video"])
        #expect(steps.map(\.1) == [F.t("2024-01-01T10:00:00Z"), F.t("2024-01-01T10:00:01Z")])
    }

    @Test("An end without its start: the process step's own measure, else a skip")
    func unpaired() {
        let o = Self.journal([
            ("2023-08-01T17:33:16.000Z", "Process took 21370ms"),
            ("2023-08-01T17:33:16.000Z", "Ended worker process for \(Self.id) with result false"),
            ("2023-08-01T17:40:00.000Z", "Ended worker sanity for \(Self.id) with result true"),
            ("2023-08-01T17:50:00.000Z", "Ended worker process for \(Self.id) with result true"),
        ])
        #expect(F.shorts(o) == "0 1 !unpaired-end !unpaired-end")
        #expect(F.events(o) == [ParsedEvent(time: F.t("2023-08-01T17:33:16Z"), payload: .recordingProcessed(RecordingProcessed(
            recording: Self.id, meeting: Self.id, step: "process", started: F.t("2023-08-01T17:32:54.630Z"), ended: F.t("2023-08-01T17:33:16Z"))),
            extra: ["success": .bool(false), "started_from": .string("process-took")])])
    }

    @Test("Times out of order: an end before its start is refused with a reason")
    func outOfOrder() {
        let o = Self.journal([
            ("2024-01-01T10:00:00Z", "Started worker sanity for \(Self.id)"),
            ("2024-01-01T09:59:00Z", "Ended worker sanity for \(Self.id) with result true"),
        ])
        #expect(F.skipCodes(o) == ["time-order"])
    }

    @Test("A chapter segment's recording id names its meeting")
    func chapterSegment() {
        #expect(BBBRapParser.meetingID(of: Self.id + "-1657178813365") == Self.id)
        #expect(BBBRapParser.meetingID(of: Self.id) == Self.id)
        #expect(BBBRapParser.meetingID(of: "not-a-bbb-id") == "not-a-bbb-id")
    }

    @Test("Text copies: rsyslog and RFC 5424 times are read; syslog's yearless time needs a year")
    func textTimes() {
        var parser = BBBParser(options: F.utc)
        let rsyslog = ["2024-02-01T10:00:00.000000+01:00 host bbb-rap[1]: Started worker sanity for \(Self.id)",
                       "<14>1 2024-02-01T10:00:02.500000+01:00 host bbb-rap 2 - -  Ended worker sanity for \(Self.id) with result true"]
        let o = rsyslog.map { parser.parse(F.line($0)) }
        #expect(F.events(o).map(\.payload) == [.recordingProcessed(RecordingProcessed(
            recording: Self.id, meeting: Self.id, step: "sanity", started: F.t("2024-02-01T09:00:00Z"), ended: F.t("2024-02-01T09:00:02.5Z")))])
        let yearless = "Jul 07 08:55:25 instance-1 bbb-rap[1020440]: Started worker publish for \(Self.id)"
        var noYear = BBBParser(options: F.utc)
        #expect(F.skipCodes([noYear.parse(F.line(yearless))]) == ["no-timestamp"])
        var withYear = BBBParser(options: ParserOptions(localTimeZone: .utc, syslogYear: 2022))
        #expect(withYear.parse(F.line(yearless)) == .events([]))
    }

    @Test("Worker words from another program are not read as steps")
    func otherOrigin() {
        var parser = BBBParser(options: F.utc)
        #expect(parser.parse(F.line("Started worker archive for \(Self.id)", time: F.t("2024-01-01T00:00:00Z"), origin: "bbb-apps-akka")) == .ignored)
        #expect(parser.parse(F.line("2024-01-01T00:00:00Z bbb-web[1]: the worker pool is ready", origin: nil)) == .ignored)
    }

    @Test("Ruby backtraces, ffmpeg output and 2.2's worker log are ignored")
    func noise() throws {
        guard F.logsAvailable else { return }
        for file in ["bbb-rap__issue-16613-process-log-ffmpeg.log", "bbb-rap__issue-19874-rfc5424-csv-export.log",
                     "bbb-rap__issue-8363-bbb-rap-worker-log-grep.log", "bbb-rap__scalelite-issue-608-post_events.log"] {
            var parser = BBBParser(options: F.utc)
            #expect(F.outcomes(&parser, text: try F.corpus(file)).allSatisfy { $0 == .ignored }, "\(file)")
        }
    }
}
