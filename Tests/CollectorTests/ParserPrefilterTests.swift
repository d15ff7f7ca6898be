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

/// The BigBlueButton prefilter (LinePrefilter.swift) lets the file follower pass over lines
/// without making them `LogLine`s. Its contract is exact: the records, the skips and the lines
/// counted are the same with it as without it, whatever the lines, cut JSON included.
@Suite("Parser: the BigBlueButton prefilter changes nothing but speed", .ownThreads)
struct ParserPrefilterTests {
    struct Run: Equatable {
        var records: [UsageRecord]
        var skipped: [String: Int]
        var lines: Int
        var passedOver: Int
    }

    /// One file read to its end by a follower and parsed by `bbb`, with or without the prefilter.
    static func read(_ path: String, prefiltered: Bool, batchLines: Int = 2048, positions: PositionStore? = nil) async throws -> Run {
        let processor = LockedBox(LineProcessor(parser: try ParserChoice.make(software: "bbb", options: ParserFixtures.utc),
                                                host: "h", source: "test", logger: sourceLogger()))
        let records = LockedBox<[UsageRecord]>([])
        let follower = FileFollower(
            configuration: FileFollowerConfiguration(
                name: "test", patterns: [path], follow: false, positions: positions, batchLines: batchLines,
                prefilter: prefiltered ? ParserChoice.prefilter(software: "bbb", options: ParserFixtures.utc) : nil),
            logger: sourceLogger())
        try await follower.run { lines in
            let made = processor.update { $0.process(lines) }
            records.update { $0 += made }
        }
        let counts = processor.value.counts
        #expect(counts.lines + follower.counts.passedOver == follower.counts.lines)
        return Run(records: records.value, skipped: counts.skipped, lines: follower.counts.lines,
                   passedOver: follower.counts.passedOver)
    }

    static func compare(_ path: String, batchLines: Int = 2048) async throws -> (plain: Run, prefiltered: Run) {
        let plain = try await read(path, prefiltered: false, batchLines: batchLines)
        let prefiltered = try await read(path, prefiltered: true, batchLines: batchLines)
        #expect(plain.passedOver == 0)
        #expect(prefiltered.lines == plain.lines)
        #expect(prefiltered.skipped == plain.skipped)
        #expect(prefiltered.records.count == plain.records.count)
        for (i, (a, b)) in zip(prefiltered.records, plain.records).enumerated() where a != b {
            Issue.record("\(path): record \(i) differs: \(a) against \(b)")
            break
        }
        return (plain, prefiltered)
    }

    static func write(_ text: String, _ name: String) throws -> String {
        let path = temporaryDirectory("prefilter") + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    @Test("A synthetic day: the same records and skips, most lines passed over")
    func syntheticDay() async throws {
        let day = SyntheticBBBDay.make(meetings: 300, seed: 11, noise: 10)
        let path = try Self.write(day.text, "day.log")
        defer { removeTree((path as NSString).deletingLastPathComponent) }
        let (plain, prefiltered) = try await Self.compare(path)
        #expect(plain.records.count == day.expected.count)
        #expect(plain.skipped == day.expectedSkips)
        #expect(prefiltered.passedOver > plain.lines / 2, "passed over \(prefiltered.passedOver) of \(plain.lines)")
        print("prefilter: passed over \(prefiltered.passedOver) of \(plain.lines) lines, \(plain.records.count) records either way")
    }

    @Test("Every real excerpt in ../shared/data/logs, whatever software wrote it",
          .enabled(if: ParserFixtures.logsAvailable, "../shared/data/logs is not here"))
    func realExcerpts() async throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: ParserFixtures.logsDirectory.path)
            .filter { !$0.hasSuffix(".tsv") && !$0.hasSuffix(".md") }.sorted()
        #expect(names.count >= 20)
        for name in names {
            _ = try await Self.compare(ParserFixtures.logsDirectory.appendingPathComponent(name).path)
        }
    }

    static let stamp = "2024-03-05 10:00:00,000 INFO  o.b.core2.AnalyticsActor - -- analytics -- "
    static let created = #"{"envelope":{"name":"MeetingCreatedEvtMsg","routing":{"sender":"bbb-apps-akka"},"timestamp":1709632800000},"core":{"header":{"name":"MeetingCreatedEvtMsg"},"body":{"props":{"meetingProp":{"name":"Room {1}","extId":"room-1","intId":"m1-1709632800000","isBreakout":false},"breakoutProps":{"parentId":"bbb-none","sequence":0},"recordProp":{"record":false},"metadataProp":{"metadata":{}}}}}}"#
    static let alive = stamp + #"{"envelope":{"name":"UserConnectionAliveReqMsg","routing":{"meetingId":"x","userId":"w_n"},"timestamp":1709632800000},"core":{"header":{"name":"UserConnectionAliveReqMsg","meetingId":"x","userId":"w_n"},"body":{"userId":"w_n","networkRttInMs":12.5}}}"#
    static let noise = "2024-03-05 10:00:01,000 DEBUG o.b.core.running.MeetingActor - Setting meeting no more users. meetingId=0123"
    static let trace = "\tat org.bigbluebutton.api.util.ParamsUtil.stripControlChars(ParamsUtil.java:21)"

    /// The created line cut into pieces at `cuts` (offsets in its JSON).
    static func pieces(_ cuts: [Int], json: String = created) -> [String] {
        let bytes = Array(json.utf8)
        var out: [String] = []
        var from = 0
        for c in cuts + [bytes.count] {
            out.append(String(decoding: bytes[from..<c], as: UTF8.self))
            from = c
        }
        out[0] = stamp + out[0]
        return out
    }

    /// The lines of each cut case, the pieces of the created line among others.
    static func cutCase(_ name: String) -> [String] {
        switch name {
        case "balanced middle": // a middle piece closing as many braces as it opens
            return pieces([60, 140, 200])
        case "cut in a string with braces": // inside "Room {1}": the brace in the string must not count
            let at = Array(created.utf8).firstIndex(of: UInt8(ascii: "{"), after: 150) ?? 160
            return pieces([at, at + 2])
        case "fresh line between": // a fresh line ends the wait: the rest alone is nothing
            var p = pieces([100]); p.insert(noise, at: 1); return p
        case "dismissed analytics between": // an analytics line of no interest ends it too
            var p = pieces([100]); p.insert(alive, at: 1); return p
        case "stack trace between": // joined, and it spoils the value
            var p = pieces([100]); p.insert(trace, at: 1); return p
        case "bare envelope": // no log prefix at all, as Redis carries it
            var p = pieces([90]); p[0] = String(p[0].dropFirst(stamp.count)); return p
        default: // "rest that starts an envelope": either reading is possible
            var p = pieces([30]); p.append(String(created.prefix(120))); p.append(String(created.dropFirst(120))); return p
        }
    }

    @Test("Cut JSON: a balanced middle piece, a cut inside a string holding braces, what ends the wait",
          arguments: ["balanced middle", "cut in a string with braces", "fresh line between", "dismissed analytics between",
                      "stack trace between", "bare envelope", "rest that starts an envelope"])
    func cutJSON(_ name: String) async throws {
        let lines = [Self.noise, Self.trace] + Self.cutCase(name) + [Self.noise, Self.alive, Self.trace, Self.noise]
        let path = try Self.write(lines.joined(separator: "\n") + "\n", "cut.log")
        defer { removeTree((path as NSString).deletingLastPathComponent) }
        let (plain, prefiltered) = try await Self.compare(path)
        if ["balanced middle", "cut in a string with braces", "bare envelope"].contains(name) {
            #expect(plain.records.count == 1, "\(name): \(plain.records)")
        }
        #expect(prefiltered.passedOver > 0)
    }

    /// Lines put between the pieces of cut lines: every way a line can end or prolong a wait.
    static let between = [
        noise, alive, trace, "", "   ", "}}}", "\"}", "\\", "\\\"", "]", "{\"envelope\":{\"name\":\"X",
        #"{"envelope":{"name":"UserConnectionAliveReqMsg","routing":{"#,
        "2024-03-05 10:00:02,000 INFO  o.bigbluebutton.api.MeetingService -  --analytics-- data=",
        "2024-03-05 10:00:02,000 INFO  o.bigbluebutton.api.MeetingService -  --analytics-- data={\"logCode\":\"join_api\"",
        stamp, stamp + "{", "Mar  5 10:00:03 bbb bbb-rap[12]: Successfully archived meeting", "E, [2024-03-05T10:00:04.000] ERROR -- : x",
    ]

    /// The lines of a synthetic day with a third of its analytics lines cut at random places into
    /// two to four pieces, and lines of `between` put between some pieces.
    static func randomlyCut(_ day: SyntheticBBBDay, seed: UInt64) -> [String] {
        var rng = SplitMix64(state: seed) // seeded, so that a failure can be replayed
        var out: [String] = []
        for line in day.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            guard line.contains("analytics"), rng.next() % 3 == 0, line.utf8.count > 20 else {
                out.append(line)
                continue
            }
            let bytes = Array(line.utf8)
            let cuts = Set((0..<Int(rng.next() % 3 + 1)).map { _ in Int(rng.next() % UInt64(bytes.count - 1)) + 1 }).sorted()
            var from = 0
            for c in cuts + [bytes.count] {
                out.append(String(decoding: bytes[from..<c], as: UTF8.self))
                from = c
                if c < bytes.count, rng.next() % 3 == 0 { out.append(between[Int(rng.next() % UInt64(between.count))]) }
            }
        }
        return out
    }

    @Test("Random cuts of a day's usage lines, read by the follower: the same records and skips")
    func randomCuts() async throws {
        let day = SyntheticBBBDay.make(meetings: 60, seed: 5, noise: 4)
        let path = try Self.write(Self.randomlyCut(day, seed: 42).joined(separator: "\n"), "random-cuts.log")
        defer { removeTree((path as NSString).deletingLastPathComponent) }
        let (plain, prefiltered) = try await Self.compare(path)
        #expect(plain.records.count > day.expected.count / 2)
        #expect(prefiltered.passedOver > 0)
    }

    /// 24 seeds; `MEETMETER_PREFILTER_SEEDS=N` runs 1...N (a longer search after changing the
    /// prefilter or the parser's joining of cut lines).
    static let seeds: ClosedRange<UInt64> =
        1...max(1, ProcessInfo.processInfo.environment["MEETMETER_PREFILTER_SEEDS"].flatMap { UInt64($0) } ?? 24)

    @Test("Line by line over random cuts: a line passed over is one the parser ignores, in the state it is in",
          arguments: seeds)
    func lineByLine(seed: UInt64) throws {
        let day = SyntheticBBBDay.make(meetings: 12, seed: seed, noise: 3)
        let lines = Self.randomlyCut(day, seed: seed)
        var plain = try ParserChoice.make(software: "bbb", options: ParserFixtures.utc)
        var filtered = try ParserChoice.make(software: "bbb", options: ParserFixtures.utc)
        var prefilter = try #require(ParserChoice.prefilter(software: "bbb", options: ParserFixtures.utc))
        var passedOver = 0
        var trail: [String] = []
        for (i, line) in ParserFixtures.lines(lines.joined(separator: "\n")).enumerated() {
            var text = line.text
            let kept = text.withUTF8 { prefilter.keeps($0) }
            if !kept { passedOver += 1 }
            let want = plain.parse(line)
            let got = kept ? filtered.parse(line) : .ignored
            trail.append("\(i) \(kept ? "kept" : "over"): \(String(describing: want).prefix(60)) | \(line.text.prefix(100))")
            if trail.count > 8 { trail.removeFirst() }
            if got != want {
                let context = trail
                Issue.record("seed \(seed), line \(i): \(kept ? "kept" : "passed over"), \(got) where the parser alone gives \(want)\n\(context.joined(separator: "\n"))")
                return
            }
        }
        #expect(passedOver > 0)
    }

    @Test("Positions move past lines passed over at a batch's end; a second run reads only what came after")
    func positionsAcrossRuns() async throws {
        let day = SyntheticBBBDay.make(meetings: 40, seed: 9, noise: 8)
        let all = day.text.split(separator: "\n").map(String.init)
        let half = all.count / 2
        let dir = temporaryDirectory("prefilter-positions")
        defer { removeTree(dir) }
        let path = dir + "/bbb.log"
        try (all[..<half].joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        let store = try PositionStore(directory: dir + "/positions")
        let first = try await Self.read(path, prefiltered: true, batchLines: 7, positions: store)
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data((all[half...].joined(separator: "\n") + "\n").utf8))
        try handle.close()
        let second = try await Self.read(path, prefiltered: true, batchLines: 7, positions: store)
        let whole = try await Self.read(path, prefiltered: false)
        #expect(first.lines + second.lines == whole.lines)
        #expect(first.records + second.records == whole.records)
        #expect(whole.records.count == day.expected.count)
    }
}

private extension Array where Element == UInt8 {
    func firstIndex(of byte: UInt8, after start: Int) -> Int? {
        self[start...].firstIndex(of: byte)
    }
}
