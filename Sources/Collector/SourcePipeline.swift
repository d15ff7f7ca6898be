import Delivery
import HostSampling
import LogLines
import LogParsers
import LogSources
import SystemCalls
import Logging
import Metrics
import UsageRecords

/// Counts of what a pipeline did with its lines, for `meetmeter parse` and the logs.
public struct ParseCounts: Sendable {
    public var lines = 0
    public var records = 0
    public var ignored = 0
    public var skipped: [String: Int] = [:]
    /// One example line number or position for each skip reason, to look at.
    public var examples: [String: String] = [:]

    public init() {}

    public var skippedTotal: Int { skipped.values.reduce(0, +) }

    public mutating func add(_ other: ParseCounts) {
        lines += other.lines
        records += other.records
        ignored += other.ignored
        for (k, v) in other.skipped { skipped[k, default: 0] += v }
        for (k, v) in other.examples where examples[k] == nil { examples[k] = v }
    }
}

/// Lines to records for one source: parse, give ids, count. Owned by one source's task.
public struct LineProcessor: Sendable {
    public var parser: any LogParser
    public let maker: RecordMaker
    public private(set) var counts = ParseCounts()
    let logger: Logger
    private let linesRead: Counter
    private let skippedCounters: SkipCounters

    public init(parser: any LogParser, host: String, source: String, logger: Logger) {
        self.parser = parser
        self.maker = RecordMaker(host: host)
        self.logger = logger
        self.linesRead = Counter(label: "meetmeter_agent_lines_read_total", dimensions: [("source", source)])
        self.skippedCounters = SkipCounters(source: source)
    }

    public mutating func process(_ lines: [LogLine]) -> [UsageRecord] {
        var out: [UsageRecord] = []
        var madeByKind: [RecordKind: Int64] = [:]
        for line in lines {
            counts.lines += 1
            switch parser.parse(line) {
            case .ignored:
                counts.ignored += 1
            case .events(let events):
                let records = maker.records(from: line, events: events)
                counts.records += records.count
                for r in records { madeByKind[r.kind, default: 0] += 1 }
                out += records
            case .skipped(let reason):
                noteSkipped(reason, at: line.position)
            }
        }
        for (kind, n) in madeByKind { RecordCounters.made(kind, n) }
        linesRead.increment(by: Int64(lines.count))
        return out
    }

    private mutating func noteSkipped(_ reason: SkipReason, at position: SourcePosition) {
        counts.skipped[reason.code, default: 0] += 1
        if counts.examples[reason.code] == nil {
            counts.examples[reason.code] = "\(position): \(reason.detail)"
            // The first of each reason is worth a line in the log; the rest are counted.
            logger.notice("skipped a line that looks like usage", metadata: [
                "reason": "\(reason.code)", "detail": "\(reason.detail)", "position": "\(position)",
            ])
        }
        skippedCounters.increment(reason.code)
    }
}

/// swift-metrics counters made once per label and dimension, not per line.
enum RecordCounters {
    static func made(_ kind: RecordKind, _ count: Int64 = 1) {
        Counter(label: "meetmeter_agent_records_made_total", dimensions: [("kind", kind.rawValue)]).increment(by: count)
    }
}

struct SkipCounters: Sendable {
    let source: String
    func increment(_ reason: String) {
        Counter(label: "meetmeter_agent_lines_skipped_total", dimensions: [("source", source), ("reason", reason)]).increment()
    }
}

/// The deliver step of a source: lines in, records spooled and fsynced before it returns, so
/// that the source may then save its position (DESIGN.md principle 5).
public actor SourcePipeline {
    private var processor: LineProcessor
    private let spool: Spool

    public init(processor: LineProcessor, spool: Spool) {
        self.processor = processor
        self.spool = spool
    }

    public func deliver(_ lines: [LogLine]) async throws {
        let records = processor.process(lines)
        try await spool.append(records)
    }

    public var counts: ParseCounts { processor.counts }
}
