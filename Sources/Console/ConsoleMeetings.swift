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
            let only = try accountParameter(request, viewer: viewer)
            let meetings = try await meetings(period).filter { viewer.sees($0.account) && (only == nil || $0.account == only) }
            return Answer.json(.object([
                "period": .string(period.label), "meetings": .array(meetings.map(Self.json)),
            ]))
        }
        router.get("/api/v1/meetings/:meeting") { request, context in
            let id = try pathParameter(context, "meeting")
            let viewer = try viewer(request)
            let drill = try await meetingsAndDerivation(try periodParameter(request))
            guard let meeting = drill.meetings.first(where: { $0.usage.meeting == id }), viewer.sees(meeting.account) else {
                throw ConsoleError.notFound
            }
            guard case .object(var o) = Self.json(meeting) else { throw ConsoleError.notFound }
            o["billing"] = .array(drill.derivation.stretches(meeting: id, policy: policy).map(Self.json))
            return Answer.json(.object(o))
        }
        router.get("/api/v1/meetings/:meeting/records") { request, context in
            let id = try pathParameter(context, "meeting")
            let records = try await meetingRecords(id, request)
            return Answer.json(.object(["meeting": .string(id), "records": .array(records.map(Self.json))]))
        }
    }

    /// All records of a meeting the viewer may see in `period=`, whatever their time: the facts
    /// behind its presence intervals, in canonical order.
    func meetingRecords(_ id: String, _ request: Request) async throws -> [UsageRecord] {
        let viewer = try viewer(request)
        let meetings = try await meetings(try periodParameter(request))
        guard let meeting = meetings.first(where: { $0.usage.meeting == id }), viewer.sees(meeting.account) else {
            throw ConsoleError.notFound
        }
        return try await reading("the records of meeting \(id)") { try await store.records(meetings: [id]) }
    }

    /// A record as it was sent (meetmeter-protocol(7)).
    static func json(_ record: UsageRecord) -> JSONValue {
        (try? JSONParser.parse(RecordCodec.encode(record))) ?? .object(["id": .string(record.id.rawValue)])
    }

    /// An optional `account=`: one account's share of a list; 404 for an account the viewer may not see.
    func accountParameter(_ request: Request, viewer: ConsoleSettings.Viewer.Scope) throws(ConsoleError) -> String? {
        guard let name = request.uri.queryParameters.get("account").map({ String($0) }) else { return nil }
        guard viewer.sees(name) else { throw ConsoleError.notFound }
        return name
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
        try await meetingsAndDerivation(period).meetings
    }

    /// The period's meetings with what they were derived from, derived once: the drill-down into
    /// one meeting's billed stretches reads the same derivation.
    func meetingsAndDerivation(_ period: Period) async throws -> (meetings: [AccountedMeeting], derivation: UsageDerivation) {
        let records = try await reading("the records of \(period.label)") { try await store.records(overlapping: period.start, to: period.end) }
        let derivation = UsageReport.derive(from: records, in: period)
        return (derivation.meetings.map { m in
            AccountedMeeting(usage: m, account: derivation.account(meeting: m.meeting, host: m.host, rules: policy.accounts))
        }, derivation)
    }

    static func json(_ s: BillableStretch) -> JSONValue {
        .object(["meter": .string(s.meter), "user": .string(s.user), "start": .string(s.start.rfc3339), "end": .string(s.end.rfc3339),
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
