import Billing
import Hummingbird
import UsageRecords

/// The recordings a period touched: each one's processing steps, and the latest size sampled
/// of it, with the account its meeting pays with (a breakout room's with its parent's).
extension ConsoleAPI {
    struct Recording {
        var recording: String
        var meeting: String
        var host: String
        var account: String
        var steps: [RecordingProcessed] = []
        var bytes: Int64?
        var sampled: Timestamp?
    }

    func addRecordingRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/v1/recordings") { request, _ in
            let viewer = try viewer(request)
            let period = try periodParameter(request)
            let only = try accountParameter(request, viewer: viewer)
            let list = try await recordings(period).filter { viewer.sees($0.account) && (only == nil || $0.account == only) }
            return Answer.json(.object(["period": .string(period.label), "recordings": .array(list.map(Self.json))]))
        }
    }

    func recordings(_ period: Period) async throws -> [Recording] {
        Self.recordings(in: try await evidence(period).records, period: period, policy: policy)
    }

    /// From the statement's evidence, which holds the start of every meeting whose recordings' storage
    /// is billed, however old.
    static func recordings(in records: [UsageRecord], period: Period, policy: BillingPolicy) -> [Recording] {
        let derivation = UsageReport.derive(from: records, in: period)
        func account(_ meeting: String, host: String) -> String { derivation.account(meeting: meeting, host: host, rules: policy.accounts) }
        var byID: [String: Recording] = [:]
        for r in records where r.time >= period.start && r.time < period.end {
            switch r.payload {
            case .recordingProcessed(let p):
                byID[p.recording, default: Recording(recording: p.recording, meeting: p.meeting, host: r.host, account: account(p.meeting, host: r.host))]
                    .steps.append(p)
            case .storageSample(let s) where s.scope == "recording":
                let meeting = s.meeting ?? byID[s.key]?.meeting ?? s.key
                var rec = byID[s.key] ?? Recording(recording: s.key, meeting: meeting, host: r.host, account: account(meeting, host: r.host))
                // Records come in time order: the last sample is the latest size.
                rec.bytes = s.bytes
                rec.sampled = r.time
                byID[s.key] = rec
            default:
                break
            }
        }
        return byID.values.sorted { ($0.account, $0.recording) < ($1.account, $1.recording) }
    }

    static func json(_ r: Recording) -> JSONValue {
        .object([
            "recording": .string(r.recording), "meeting": .string(r.meeting), "host": .string(r.host), "account": .string(r.account),
            "steps": .array(r.steps.map { .object(["step": .string($0.step), "started": .string($0.started.rfc3339), "ended": .string($0.ended.rfc3339)]) }),
            "bytes": r.bytes.map { .integer($0) } ?? .null, "sampled": r.sampled.map { .string($0.rfc3339) } ?? .null,
        ])
    }
}
