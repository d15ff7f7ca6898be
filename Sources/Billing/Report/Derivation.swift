import UsageRecords

/// Everything derived from the records once: the canonical evidence, each host's boots, each
/// meeting's timeline. Pure; the report and the rating both start here.
struct Derivation: Sendable {
    let evidence: Evidence
    let hosts: [String: HostLiveness]
    /// Sorted by start, then id.
    let meetings: [MeetingTimeline]
    let meetingsByID: [String: Int]
    let notes: DerivationNotes

    init(records input: [UsageRecord]) {
        let evidence = Evidence(input)
        self.evidence = evidence
        var notes = DerivationNotes()
        notes.duplicateRecords = input.count - evidence.records.count

        var byHost: [String: [UsageRecord]] = [:]
        var byMeeting: [String: [UsageRecord]] = [:]
        for r in evidence.records {
            byHost[r.host, default: []].append(r)
            switch r.payload {
            case .recordingProcessed, .storageSample: break // about a meeting, not part of its live span
            default: if let m = r.payload.meeting { byMeeting[m, default: []].append(r) }
            }
        }
        let end = evidence.end ?? Timestamp(microseconds: 0)
        var hosts: [String: HostLiveness] = [:]
        for (host, records) in byHost { hosts[host] = HostLiveness(host: host, records: records, evidenceEnd: end) }
        self.hosts = hosts

        var meetings: [MeetingTimeline] = []
        meetings.reserveCapacity(byMeeting.count)
        for (id, records) in byMeeting {
            meetings.append(MeetingTimeline(meeting: id, records: records, liveness: { hosts[$0] }, notes: &notes))
        }
        meetings.sort { ($0.start, $0.meeting) < ($1.start, $1.meeting) }
        self.meetings = meetings
        var index: [String: Int] = [:]
        for (i, m) in meetings.enumerated() { index[m.meeting] = i }
        self.meetingsByID = index
        self.notes = notes
    }

    func meeting(_ id: String) -> MeetingTimeline? { meetingsByID[id].map { meetings[$0] } }
}
