import Aggregation
import Billing
import Hummingbird
import UsageRecords

/// The meetings of a period, each with its account, its people and their presence intervals
/// down to the records that opened and closed them: the drill-down from a statement line to its
/// evidence (DESIGN.md). Derived from the store as `meetmeter report` derives them.
extension ConsoleAPI {
    struct AccountedMeeting {
        var usage: MeetingUsage
        var account: String
    }

    func addMeetingRoutes(to router: Router<BasicRequestContext>) {
        router.get("/api/v1/meetings") { request, _ in
            let viewer = try viewer(request)
            let period = try periodParameter(request)
            let meetings = try await meetings(period).filter { viewer.sees($0.account) }
            return Answer.json(.object([
                "period": .string(period.label), "meetings": .array(meetings.map(Self.json)),
            ]))
        }
        router.get("/api/v1/meetings/:meeting") { request, context in
            let id = try pathParameter(context, "meeting")
            let viewer = try viewer(request)
            let period = try periodParameter(request)
            let (all, records) = try await meetingsAndRecords(period)
            guard let meeting = all.first(where: { $0.usage.meeting == id }), viewer.sees(meeting.account) else {
                throw ConsoleError.notFound
            }
            guard case .object(var o) = Self.json(meeting) else { throw ConsoleError.notFound }
            o["billing"] = .array(stretches(id, records).map(Self.json))
            return Answer.json(.object(o))
        }
    }

    /// The period of a required `period=`.
    func periodParameter(_ request: Request) throws(ConsoleError) -> Period {
        guard let text = request.uri.queryParameters.get("period") else {
            throw ConsoleError.badRequest("give period=YYYY-MM, YYYY-Www or YYYY-MM-DD (UTC)")
        }
        do { return try Period.parse(String(text)) } catch { throw ConsoleError.badRequest("period: \(error)") }
    }

    /// The period's meetings, each with the account that pays for it (a breakout room pays with
    /// its parent, as in rating).
    func meetings(_ period: Period) async throws -> [AccountedMeeting] {
        try await meetingsAndRecords(period).meetings
    }

    /// Whether and why each stretch of each person's presence in `meeting` is billed, under the
    /// policy's participant rule (none when the policy bills no participant time).
    func stretches(_ meeting: String, _ records: [UsageRecord]) -> [BillableStretch] {
        guard let rule = Billability.participantRule(policy) else { return [] }
        return Billability.stretches(meeting: meeting, records: records, rule: rule)
    }

    func meetingsAndRecords(_ period: Period) async throws -> (meetings: [AccountedMeeting], records: [UsageRecord]) {
        let records = try await reading("the records of \(period.label)") { try await store.records(overlapping: period.start, to: period.end) }
        let meetings = UsageReport.meetings(from: records, in: period)
        var byID: [String: MeetingUsage] = [:]
        for m in meetings { byID[m.meeting] = m }
        return (meetings.map { m in
            var root = m
            var hops = 0
            while let parent = root.parent, let p = byID[parent], hops < 8, p.meeting != root.meeting {
                root = p
                hops += 1
            }
            return AccountedMeeting(usage: m, account: policy.accounts.account(meta: root.meta, external: root.external, host: root.host))
        }, records)
    }

    static func json(_ s: BillableStretch) -> JSONValue {
        .object(["user": .string(s.user), "start": .string(s.start.rfc3339), "end": .string(s.end.rfc3339),
                 "billable": .bool(s.billable), "reason": .string(s.reason.rawValue)])
    }

    static func json(_ m: AccountedMeeting) -> JSONValue {
        let u = m.usage
        var o: [String: JSONValue] = [
            "meeting": .string(u.meeting), "account": .string(m.account), "host": .string(u.host), "start": .string(u.start.rfc3339),
            "seconds": .integer(u.seconds), "minutes": .integer(u.minutes), "closure": .string(u.closure.rawValue),
            "people": .array(u.users.map { p in
                .object([
                    "user": .string(p.user), "role": .string(p.role), "seconds": .integer(p.seconds), "minutes": .integer(p.minutes),
                    "intervals": .array(p.intervals.map { i in
                        .object([
                            "start": .string(i.start.rfc3339), "end": .string(i.end.rfc3339), "role": .string(i.role),
                            "client": i.client.map(JSONValue.string) ?? .null, "closure": .string(i.closure.rawValue),
                            "join_record": .string(i.joinRecord.rawValue), "end_record": i.endRecord.map { .string($0.rawValue) } ?? .null,
                        ])
                    }),
                ])
            }),
        ]
        o["end"] = u.end.map { .string($0.rfc3339) } ?? .null
        o["name"] = u.name.map { .string($0) } ?? .null
        o["external"] = u.external.map { .string($0) } ?? .null
        o["parent"] = u.parent.map { .string($0) } ?? .null
        return .object(o)
    }
}
