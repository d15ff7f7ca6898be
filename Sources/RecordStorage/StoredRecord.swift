import UsageRecords

/// A record with the time the aggregator received it (the second of the two times).
public struct StoredRecord: Sendable, Hashable {
    public var record: UsageRecord
    public var receivedAt: Timestamp

    public init(record: UsageRecord, receivedAt: Timestamp) {
        self.record = record
        self.receivedAt = receivedAt
    }
}
