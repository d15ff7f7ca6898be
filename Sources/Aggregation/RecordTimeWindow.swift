import UsageRecords

/// The times a record may carry and be stored (aggregator.toml(5), `[records]`): not before
/// `earliest`, and not more than `maxFutureSeconds` ahead of the aggregator's clock. A host whose
/// clock is wrong must not put usage into a month that has nothing to do with it, and a time
/// such as year 0000 or 9999 is a broken clock or a broken line, never a meeting.
public struct RecordTimeWindow: Sendable, Hashable {
    public static let defaultEarliest = Timestamp(seconds: 946_684_800) // 2000-01-01T00:00:00Z
    public static let defaultMaxFutureSeconds: Int64 = 86_400

    public var earliest: Timestamp
    public var maxFutureSeconds: Int64

    public init(earliest: Timestamp = defaultEarliest, maxFutureSeconds: Int64 = defaultMaxFutureSeconds) {
        self.earliest = earliest
        self.maxFutureSeconds = maxFutureSeconds
    }

    /// The field of `record` whose time lies outside the window and why, or nil if none does.
    /// Besides `time`, the processing span of a recording, which billing rates.
    /// Runs for every record the listener takes in, so it builds nothing unless a time is outside.
    public func problem(with record: UsageRecord, now: Timestamp) -> (field: String, reason: String)? {
        let latest = now.adding(seconds: maxFutureSeconds)
        if let reason = problem(with: record.time, now: now, latest: latest) { return ("time", reason) }
        if case .recordingProcessed(let p) = record.payload {
            if let reason = problem(with: p.started, now: now, latest: latest) { return ("started", reason) }
            if let reason = problem(with: p.ended, now: now, latest: latest) { return ("ended", reason) }
        }
        return nil
    }

    private func problem(with t: Timestamp, now: Timestamp, latest: Timestamp) -> String? {
        if t < earliest {
            return "\(t.rfc3339) is before \(earliest.rfc3339), the earliest time accepted (records.earliest); is the host's clock or the log line wrong?"
        }
        if t > latest {
            return "\(t.rfc3339) is more than \(maxFutureSeconds) s ahead of the aggregator's clock (\(now.rfc3339); records.max_future_seconds); is the host's clock wrong?"
        }
        return nil
    }
}
