/// Where the records a part of the agent makes go: the spool, in the daemon. Samplers write to
/// one without knowing what it is; `append` returns once the records are safe.
public protocol RecordSink: Sendable {
    func append(_ records: [UsageRecord]) async throws
}
