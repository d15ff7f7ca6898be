import Foundation
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

/// Helpers the parser tests share, and tests of the byte search and time layouts under them.
enum ParserFixtures {
    /// /work/shared/data/logs, found from this file: Tests/CollectorTests → the repository → its
    /// parent, which holds `shared/`.
    static let logsDirectory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("shared/data/logs")

    static var logsAvailable: Bool {
        FileManager.default.fileExists(atPath: logsDirectory.appendingPathComponent("SOURCES.tsv").path)
    }

    /// The repository's own sample (samples/bbb-apps-akka.log).
    static let sampleAkkaLog: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("samples/bbb-apps-akka.log")

    static func text(of url: URL) throws -> String {
        let data = try Data(contentsOf: url)
        return String(decoding: data, as: UTF8.self)
    }

    static func corpus(_ name: String) throws -> String {
        try text(of: logsDirectory.appendingPathComponent(name))
    }

    /// Lines as a file source would give them: no journal time, positions by line number.
    static func lines(_ text: String, source: String = "test", origin: String? = nil) -> [LogLine] {
        var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if parts.last == "" { parts.removeLast() }
        return parts.enumerated().map { i, t in
            LogLine(source: source, position: .stream(name: source, line: UInt64(i + 1)), origin: origin, text: t)
        }
    }

    static func line(_ text: String, time: Timestamp? = nil, origin: String? = nil) -> LogLine {
        LogLine(source: "test", position: .stream(name: "test", line: 1), time: time, origin: origin, text: text)
    }

    /// Every line's outcome, in order.
    static func outcomes(_ parser: inout some LogParser, _ lines: [LogLine]) -> [ParseOutcome] {
        lines.map { parser.parse($0) }
    }

    static func outcomes(_ parser: inout some LogParser, text: String, origin: String? = nil) -> [ParseOutcome] {
        outcomes(&parser, lines(text, origin: origin))
    }

    static func events(_ outcomes: [ParseOutcome]) -> [ParsedEvent] {
        outcomes.flatMap { (o: ParseOutcome) -> [ParsedEvent] in
            if case .events(let e) = o { return e }
            return []
        }
    }

    static func skipCodes(_ outcomes: [ParseOutcome]) -> [String] {
        outcomes.compactMap { (o: ParseOutcome) -> String? in
            if case .skipped(let r) = o { return r.code }
            return nil
        }
    }

    /// One outcome in the compact notation the expectation tables use: `-` ignored, `0` a line
    /// read that made nothing, `N` N records, `!code` a skip.
    static func short(_ outcome: ParseOutcome) -> String {
        switch outcome {
        case .ignored: "-"
        case .events(let e): String(e.count)
        case .skipped(let r): "!" + r.code
        }
    }

    static func shorts(_ outcomes: [ParseOutcome]) -> String { outcomes.map(short).joined(separator: " ") }

    /// Tests run with UTC so that local times read the same on every machine.
    static let utc = ParserOptions(localTimeZone: .utc)

    static func t(_ rfc3339: String) -> Timestamp {
        guard let t = Timestamp(rfc3339: rfc3339) else { fatalError("bad time in a test: \(rfc3339)") }
        return t
    }

    /// The records must survive the wire: encoded and decoded, they are unchanged.
    static func roundTrip(_ events: [ParsedEvent]) throws {
        let maker = RecordMaker(host: "test-host")
        for (i, event) in events.enumerated() {
            let line = LogLine(source: "t", position: .stream(name: "t", line: UInt64(i + 1)), text: "x")
            let record = maker.records(from: line, events: [event])[0]
            let decoded = try RecordCodec.decode(RecordCodec.encode(record))
            #expect(decoded == record, "\(RecordCodec.encode(record))")
        }
    }
}

@Suite("Parser support: byte search and time layouts")
struct ParserSupportTests {
    @Test("The byte search finds what a naive search finds, at every offset")
    func byteSearchAgreesWithNaive() {
        let needles = ["analytics", "-- ", "orker ", "Process took ", "a", "zz", "Jicofo "].map(ByteNeedle.init)
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("analytics -- orkerP zJicofo".utf8)
        for _ in 0..<2_000 {
            let length = Int.random(in: 0..<40, using: &rng)
            let hay = (0..<length).map { _ in alphabet.randomElement(using: &rng)! }
            for needle in needles {
                let from = Int.random(in: 0...max(0, length), using: &rng)
                let expected: Int? = {
                    guard length - from >= needle.count else { return nil }
                    for i in from...(length - needle.count) where Array(hay[i..<(i + needle.count)]) == needle.bytes { return i }
                    return nil
                }()
                let found = hay.withUnsafeBufferPointer { $0.find(needle, from: from) }
                #expect(found == expected, "\(String(decoding: hay, as: UTF8.self)) / \(String(decoding: needle.bytes, as: UTF8.self)) from \(from)")
            }
        }
    }

    @Test("Zoned, local and syslog times read from bytes", arguments: [
        ("2023-10-31T16:52:38.093Z", "2023-10-31T16:52:38.093000Z"),
        ("2020-04-14T15:57:14.463-04:00", "2020-04-14T19:57:14.463000Z"),
        ("2021-06-23T18:59:24.130671+00:00 host x[1]:", "2021-06-23T18:59:24.130671Z"),
        ("<11>1 2024-01-02T03:04:05.713468+01:00 srv bbb-rap 1 - -  msg", "2024-01-02T02:04:05.713468Z"),
        ("I, [2021-07-21T23:54:38.567720 #23092]  INFO -- : x", "2021-07-21T23:54:38.567720Z"),
        ("Jul 07 08:55:25 instance-1 bbb-rap[995040]: Process took 1ms", "2022-07-07T08:55:25.000000Z"),
        ("Aug  1 17:33:16 host bbb-rap[4772]: x", "2022-08-01T17:33:16.000000Z"),
    ])
    func leadingTimes(text: String, expected: String) {
        var t = text
        let found = t.withUTF8 { LogTime.leading($0, zone: .utc, year: 2022) }
        guard case .time(let time) = found else {
            Issue.record("no time in \(text)")
            return
        }
        #expect(time.rfc3339 == expected)
    }

    @Test("Times that cannot be placed are said so")
    func unplaceableTimes() {
        for text in ["Jul 07 08:55:25 host bbb-rap[1]: x", "abr 14 10:00:00 host x", "${date}T${time}.713Z,\"<11>1", "022-02-15T10:00:00.000Z INFO"] {
            var t = text
            let found = t.withUTF8 { LogTime.leading($0, zone: .utc, year: nil) }
            switch found {
            case .time(let time): Issue.record("\(text) read as \(time)")
            case .noYear: #expect(text.hasPrefix("Jul"))
            case .none: #expect(!text.hasPrefix("Jul"))
            }
        }
    }

    @Test("A yearless syslog time takes the latest year not after the reference")
    func yearFromReference() {
        func place(_ text: String, _ reference: String) -> String? {
            var t = text
            let found = t.withUTF8 { LogTime.leading($0, zone: .utc, year: nil, reference: Timestamp(rfc3339: reference)) }
            if case .time(let time) = found { return time.rfc3339 }
            return nil
        }
        #expect(place("Jul 07 08:55:25 host bbb-rap[1]: x", "2026-11-23T00:00:00Z") == "2026-07-07T08:55:25.000000Z")
        #expect(place("Dec 31 23:59:59 host bbb-rap[1]: x", "2027-01-01T00:10:00Z") == "2026-12-31T23:59:59.000000Z")
        #expect(place("Jan 01 00:20:00 host bbb-rap[1]: x", "2026-12-31T23:50:00Z") == "2027-01-01T00:20:00.000000Z")
        #expect(place("Feb 29 10:00:00 host bbb-rap[1]: x", "2025-03-01T00:00:00Z") == "2024-02-29T10:00:00.000000Z")
    }

    @Test("Zones as an operator writes them")
    func configuredZones() {
        #expect(LocalTimeZone(configured: "local") == .system)
        #expect(LocalTimeZone(configured: "UTC") == .utc)
        #expect(LocalTimeZone(configured: "+02:00") == .fixed(seconds: 7200))
        #expect(LocalTimeZone(configured: "-0430") == .fixed(seconds: -16200))
        #expect(LocalTimeZone(configured: "+05") == .fixed(seconds: 18000))
        for bad in ["Europe/Berlin", "+2", "+02:0", "0200", "+25:00", "+02::00", ""] {
            #expect(LocalTimeZone(configured: bad) == nil, "\(bad)")
        }
    }

    @Test("A fixed zone and the system zone turn local times into UTC")
    func zones() {
        let local = CivilDate(year: 2024, month: 6, day: 3).daysSinceEpoch * 86_400 + 13 * 3600
        #expect(LocalTimeZone.fixed(seconds: 7200).instant(localSeconds: local, microseconds: 5).rfc3339 == "2024-06-03T11:00:00.000005Z")
        // Whatever the machine's zone, converting back with its offset gives the local time again.
        let instant = LocalTimeZone.system.instant(localSeconds: local, microseconds: 0)
        var t = time_t(instant.seconds)
        var parts = tm()
        localtime_r(&t, &parts)
        #expect(instant.seconds + Int64(parts.tm_gmtoff) == local)
    }

    @Test("The logback time is preferred to a syslog prefix's")
    func lastZonedTime() {
        var text = "2021-06-23T18:59:24.130671+00:00 mxdb015482 bbb-apps-akka[5294]: 2021-06-23T18:59:24.130Z INFO  o.b.core2.AnalyticsActor - -- analytics -- {}"
        let found = text.withUTF8 { b in LogTime.lastZoned(b, before: b.count - 20) }
        #expect(found?.rfc3339 == "2021-06-23T18:59:24.130000Z")
    }
}
