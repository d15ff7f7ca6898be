import LogLines
import UsageRecords

/// The record-and-playback worker (bbb-rap-resque-worker, BigBlueButton 2.3 and later), whose
/// messages reach the journal with the identifier `bbb-rap` (LOG-FORMATS.md §4.1):
///
///     Started worker <step> for <meeting id>
///     Running <step> worker for <id>[:<format>]
///     Process took <n>ms
///     Ended worker <step> for <meeting id> with result <true|false>
///     Ended worker <step> for <meeting id> with worker halt. Following steps will not be run.
///
/// A step's start waits in memory for its end, which makes one `recording.processed`. Resque
/// forks a process per job, so steps are matched by meeting id and step, never by pid; two jobs
/// of one step (two formats) are matched first in, first out.
struct BBBRapParser: Sendable {
    private struct Start: Sendable {
        var time: Timestamp
        var format: String?
        var sequence: UInt64
    }

    private var starts: [String: [Start]] = [:]
    private var sequence: UInt64 = 0
    private var lastProcessTook: (milliseconds: Int64, at: Timestamp)?
    let zone: LocalTimeZone
    let year: Int64?
    let reference: Timestamp?

    /// Starts waiting for their end; past this the oldest are forgotten (a worker killed mid-step
    /// never logs its end).
    static let capacity = 10_000

    init(zone: LocalTimeZone, year: Int64?, reference: Timestamp? = nil) {
        self.zone = zone
        self.year = year
        self.reference = reference
    }

    private static let worker = ByteNeedle("worker ")
    private static let started = ByteNeedle("Started ")
    private static let ended = ByteNeedle("Ended ")
    private static let running = ByteNeedle("Running ")
    private static let processTook = ByteNeedle("Process took ")
    private static let withResult = ByteNeedle(" with result ")
    private static let withHalt = ByteNeedle(" with worker halt")
    private static let forWord = ByteNeedle(" for ")

    /// The cheap test: could this line be one of ours at all? One `memchr` pass for the 'k' of
    /// both "worker " and "Process took ".
    static func mayMatch(_ b: LineBuffer) -> Bool {
        var from = 0
        while let k = b.index(of: UInt8(ascii: "k"), from: from) {
            if b.has("worker ", at: k - 3) || b.has("Process took ", at: k - 11) { return true }
            from = k + 1
        }
        return false
    }

    mutating func parse(_ b: LineBuffer, line: LogLine) -> ParseOutcome {
        if let w = b.find(Self.worker) {
            if w >= 8, b.has(Self.started, at: w - 8) {
                return started(b, afterWorker: w + Self.worker.count, line: line)
            }
            if w >= 6, b.has(Self.ended, at: w - 6) {
                return ended(b, afterWorker: w + Self.worker.count, line: line)
            }
            if let r = b.find(Self.running, from: max(0, w - 24), to: w) {
                return running(b, stepStart: r + Self.running.count, stepEnd: w - 1, after: w + Self.worker.count, line: line)
            }
        }
        if let p = b.find(Self.processTook) {
            var i = p + Self.processTook.count
            var ms: Int64 = 0
            let digitsStart = i
            while i < b.count, isASCIIDigit(b[i]), ms < Int64.max / 10 { ms = ms * 10 + Int64(b[i] - 0x30); i += 1 }
            guard i > digitsStart, b.has(ByteNeedle("ms"), at: i) else { return .ignored }
            switch time(b, line: line) {
            case .success(let t): lastProcessTook = (ms, t)
            case .failure(let reason): return .skipped(reason)
            }
            return .events([])
        }
        return .ignored
    }

    // MARK: The line shapes

    private mutating func started(_ b: LineBuffer, afterWorker: Int, line: LogLine) -> ParseOutcome {
        guard let (step, id, _) = stepAndID(b, from: afterWorker) else { return .ignored }
        let t: Timestamp
        switch time(b, line: line) {
        case .success(let found): t = found
        case .failure(let reason): return .skipped(reason)
        }
        sequence += 1
        starts[step + " " + id, default: []].append(Start(time: t, format: nil, sequence: sequence))
        forgetOldest()
        return .events([])
    }

    private mutating func running(_ b: LineBuffer, stepStart: Int, stepEnd: Int, after: Int, line: LogLine) -> ParseOutcome {
        // `Running process worker for <id>:<format>`: the format names the job the last start began.
        guard stepEnd > stepStart, b.has(ByteNeedle("for "), at: after) else { return .ignored }
        let step = b.string(stepStart..<stepEnd)
        var i = after + 4
        let idStart = i
        while i < b.count, b[i] != 0x20 { i += 1 }
        let full = b.string(idStart..<i)
        guard let colon = full.lastIndex(of: ":") else { return .events([]) }
        let meeting = Self.meetingID(of: String(full[..<colon]))
        let format = String(full[full.index(after: colon)...])
        let key = step + " " + meeting
        if var list = starts[key], let last = list.indices.last, list[last].format == nil, !format.isEmpty {
            list[last].format = format
            starts[key] = list
        }
        return .events([])
    }

    private mutating func ended(_ b: LineBuffer, afterWorker: Int, line: LogLine) -> ParseOutcome {
        guard let (step, id, idEnd) = stepAndID(b, from: afterWorker) else { return .ignored }
        var extra: [String: JSONValue] = [:]
        if b.has(Self.withResult, at: idEnd) {
            let v = idEnd + Self.withResult.count
            if b.has(ByteNeedle("true"), at: v) { extra["success"] = .bool(true) }
            else if b.has(ByteNeedle("false"), at: v) { extra["success"] = .bool(false) }
        } else if b.has(Self.withHalt, at: idEnd) {
            // 2.7+: no recording marks, nothing to do; the step still ran.
            extra["halted"] = .bool(true)
        } else {
            return .skipped(SkipReason("unknown-shape", "an 'Ended worker' line without 'with result' or 'with worker halt'"))
        }
        let endTime: Timestamp
        switch time(b, line: line) {
        case .success(let found): endTime = found
        case .failure(let reason): return .skipped(reason)
        }
        let key = step + " " + id
        var startTime: Timestamp
        if var list = starts[key], !list.isEmpty {
            let start = list.removeFirst()
            starts[key] = list.isEmpty ? nil : list
            startTime = start.time
            if let format = start.format { extra["format"] = .string(format) }
        } else if step == "process", let took = lastProcessTook,
                  took.at <= endTime, endTime.microseconds(since: took.at) <= 10_000_000
        {
            // The start was before this log (or this agent) began; the process step measured itself.
            // `took` is at most 10 s old and measured in ms; a damaged figure past any real
            // run (more than a year) is no start time.
            guard took.milliseconds <= 31_622_400_000,
                  let start = Timestamp(checkedSeconds: 0, microseconds: endTime.microseconds - took.milliseconds * 1_000)
            else {
                return .skipped(SkipReason("unpaired-end", "'Ended worker \(step) for \(id)' after a 'Process took' of \(took.milliseconds) ms, longer than a year"))
            }
            startTime = start
            extra["started_from"] = .string("process-took")
        } else {
            return .skipped(SkipReason("unpaired-end", "'Ended worker \(step) for \(id)' without its 'Started worker' line"))
        }
        if step == "process" { lastProcessTook = nil }
        guard endTime >= startTime else {
            return .skipped(SkipReason("time-order", "worker \(step) for \(id) ended (\(endTime)) before it started (\(startTime))"))
        }
        let payload = RecordingProcessed(recording: id, meeting: Self.meetingID(of: id), step: step,
                                         started: startTime, ended: endTime)
        return .events([ParsedEvent(time: endTime, payload: .recordingProcessed(payload), extra: extra)])
    }

    // MARK: Pieces

    /// `<step> for <id>` from `from`: the step word, the id, and the index after the id.
    private func stepAndID(_ b: LineBuffer, from: Int) -> (String, String, Int)? {
        var i = from
        while i < b.count, b[i] >= UInt8(ascii: "a"), b[i] <= UInt8(ascii: "z") { i += 1 }
        guard i > from, b.has(Self.forWord, at: i) else { return nil }
        let step = b.string(from..<i)
        i += Self.forWord.count
        let idStart = i
        while i < b.count, b[i] != 0x20, b[i] != 0x09 { i += 1 }
        guard i > idStart else { return nil }
        return (step, b.string(idStart..<i), i)
    }

    /// The step's time: the journal's for a journal entry (its message has none), else the time
    /// at the head of the text line.
    private func time(_ b: LineBuffer, line: LogLine) -> Attempt<Timestamp> {
        if let t = line.time { return .success(t) }
        switch LogTime.leading(b, zone: zone, year: year, reference: reference) {
        case .time(let t): return .success(t)
        case .noYear:
            return .failure(SkipReason("no-timestamp", "a syslog time without a year; read the journal itself, or give the year (meetmeter parse --year)"))
        case .none:
            return .failure(SkipReason("no-timestamp", "a bbb-rap line with no time of its own and none from its source"))
        }
    }

    /// A recording id is the meeting's internal id (`<sha1>-<ms>`), with `-<break ms>` added for a
    /// chapter segment; the meeting is the first two parts.
    static func meetingID(of recording: String) -> String {
        let parts = recording.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].utf8.count == 40, parts[1].allSatisfy(\.isNumber), parts[2].allSatisfy(\.isNumber) else {
            return recording
        }
        return parts[0] + "-" + parts[1]
    }

    private mutating func forgetOldest() {
        // Rare (only ends that never came fill it), so a scan is cheap enough.
        while starts.count > Self.capacity,
              let oldest = starts.min(by: { ($0.value.first?.sequence ?? 0) < ($1.value.first?.sequence ?? 0) })
        {
            starts[oldest.key] = nil
        }
    }
}
