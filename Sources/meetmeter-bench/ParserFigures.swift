import Collector
import Foundation
import Logging
import UsageRecords

/// Issue 4: the BigBlueButton parser's lines per second against counting the newlines of the
/// same bytes, in the same process.
enum ParserFigures {
    static func akka(lines: Int) throws -> [String] {
        // About one usage line in twenty, as on a real host: the rest must be rejected cheaply.
        let users = max(1, lines / 40)
        let text = SyntheticAkkaLog.meeting(users: users, noise: false)
        var noisy: [LogLine] = []
        noisy.reserveCapacity(lines)
        var offset: UInt64 = 0
        var usage = text.split(separator: "\n").makeIterator()
        var n = 0
        while noisy.count < lines {
            let t: String
            if n % 20 == 0, let u = usage.next() {
                t = String(u)
            } else {
                t = "2023-10-31T16:52:38.093Z DEBUG o.b.core.running.MeetingActor - MeetingActor internal message \(n)"
            }
            noisy.append(LogLine(source: "bench", position: .file(fingerprint: 1, offset: offset), text: t))
            offset += UInt64(t.utf8.count + 1)
            n += 1
        }
        var logger = Logger(label: "bench")
        logger.logLevel = .critical
        var made = 0
        let ours = try Measure.seconds {
            var p = LineProcessor(parser: try ParserChoice.make(software: "bbb"), host: "bench", source: "bench", logger: logger)
            made = p.process(noisy).count
        }
        var newlines = 0
        let baseline = Measure.seconds {
            newlines = 0
            for line in noisy {
                var s = line.text
                s.withUTF8 { buffer in
                    for byte in buffer where byte == 0x3A { newlines &+= 1 }
                }
                newlines += 1
            }
        }
        return [Figure(what: "bbb parser, \(lines) lines (\(made) records)", ours: Double(lines) / ours,
                       baseline: Double(lines) / baseline, baselineName: "one pass over every byte", unit: "lines/s").line]
    }
}
