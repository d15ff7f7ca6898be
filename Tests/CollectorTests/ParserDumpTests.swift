import Foundation
import Testing
import UsageRecords
@testable import Collector

@Test func parserDumpCorpus() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: ParserFixtures.logsDirectory.path).sorted()
    var out = ""
    for f in files where f != "SOURCES.tsv" {
        var parser = try ParserChoice.make(software: "auto", options: ParserOptions(localTimeZone: .utc, syslogYear: 2022))
        let outcomes = ParserFixtures.outcomes(&parser, text: try ParserFixtures.corpus(f))
        out += "=== \(f)\n\(ParserFixtures.shorts(outcomes))\n"
        for o in outcomes {
            switch o {
            case .events(let e): for ev in e { out += "  \(ev.time) \(ev.payload) \(ev.extra)\n" }
            case .skipped(let r): out += "  SKIP \(r)\n"
            case .ignored: break
            }
        }
    }
    try out.write(toFile: "/tmp/parser-dump.txt", atomically: true, encoding: .utf8)
}
