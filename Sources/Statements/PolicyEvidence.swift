import Billing
import RecordStorage
import UsageRecords

/// The stored evidence a statement needs: the period and the earlier periods it may adjust, with
/// the weeks and margins the policy's cycles reach into; when each record was received; and the
/// start of every meeting whose recordings' storage is billed, however long ago it was, since
/// the meeting's metadata names the account that pays.
public enum PolicyEvidence {
    public static func load(store: any RecordStore, policy: BillingPolicy, period: Period) async throws
        -> (records: [UsageRecord], receivedAt: [RecordID: Timestamp])
    {
        var earliest = period
        for _ in 0..<policy.closing.lookback { earliest = earliest.previous }
        let start = policy.evidenceWindow(for: earliest).start
        let end = policy.evidenceWindow(for: period).end
        var records = try await store.records(overlapping: start, to: end)
        var receivedAt: [RecordID: Timestamp] = [:]
        for stored in try await store.storedRecords(from: start, to: end) { receivedAt[stored.record.id] = stored.receivedAt }
        var started = Set<String>()
        var stored = Set<String>()
        for r in records {
            switch r.payload {
            case .meetingStarted(let m): started.insert(m.meeting)
            case .storageSample(let s): if let m = s.meeting { stored.insert(m) }
            default: break
            }
        }
        let missing = stored.subtracting(started)
        if !missing.isEmpty {
            records += try await store.records(meetings: missing.sorted()).filter { $0.kind == .meetingStarted }
        }
        return (records, receivedAt)
    }
}

/// A period's statement from the store: its evidence loaded and rated under a policy, as
/// `meetmeter report --policy` prints it and the console serves it.
public enum StoredStatement {
    /// The statement as it stood at `asOf` (usage received after a period closed is an
    /// adjustment on the next one), or with `asOf` nil the period rated with every record known now.
    public static func invoice(store: any RecordStore, policy: BillingPolicy, period: Period, asOf: Timestamp?) async throws -> Invoice {
        invoice(evidence: try await PolicyEvidence.load(store: store, policy: policy, period: period), policy: policy, period: period, asOf: asOf)
    }

    /// The same from evidence already loaded (one read for several ratings of a period).
    public static func invoice(evidence: (records: [UsageRecord], receivedAt: [RecordID: Timestamp]), policy: BillingPolicy,
                               period: Period, asOf: Timestamp?) -> Invoice {
        guard let asOf else { return Invoice.rate(records: evidence.records, policy: policy, period: period) }
        return Invoice.statement(records: evidence.records, receivedAt: evidence.receivedAt, policy: policy, period: period, asOf: asOf)
    }
}
