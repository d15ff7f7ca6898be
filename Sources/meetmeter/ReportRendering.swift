import Foundation
import Billing
import UsageRecords

/// The usage report for people (an aligned table) and programs (JSON, CSV).
enum ReportRendering {
    static func table(_ meetings: [MeetingUsage], period: Period) -> String {
        var out = "Usage in \(period) (UTC), \(meetings.count) meeting(s)\n"
        if meetings.isEmpty { return out }
        for m in meetings {
            out += "\n"
            let title = [m.name, m.external.map { "external \($0)" }].compactMap { $0 }.joined(separator: ", ")
            out += "meeting \(m.meeting)\(title.isEmpty ? "" : " (\(title))") on \(m.host)\n"
            out += "  start \(m.start.rfc3339)  end \(m.end?.rfc3339 ?? "(still running)")  "
            out += "\(m.minutes) min (\(m.seconds) s)\n"
            let width = max(4, m.users.map(\.user.count).max() ?? 4)
            out += "  " + pad("user", width) + "  " + pad("role", 10) + "  " + lpad("minutes", 7) + "  " + lpad("seconds", 8) + "\n"
            for u in m.users {
                out += "  " + pad(u.user, width) + "  " + pad(u.role, 10) + "  " + lpad(String(u.minutes), 7) + "  " + lpad(String(u.seconds), 8) + "\n"
            }
        }
        let total = meetings.reduce(0) { $0 + $1.minutes }
        let people = meetings.reduce(0) { $0 + $1.users.reduce(0) { $0 + $1.minutes } }
        out += "\ntotal: \(total) meeting minutes, \(people) participant minutes\n"
        return out
    }

    static func json(_ meetings: [MeetingUsage], period: Period) -> String {
        let list: [JSONValue] = meetings.map { m in
            var o: [String: JSONValue] = [
                "meeting": .string(m.meeting), "host": .string(m.host), "start": .string(m.start.rfc3339),
                "seconds": .integer(m.seconds), "minutes": .integer(m.minutes),
                "users": .array(m.users.map { u in
                    .object(["user": .string(u.user), "role": .string(u.role), "seconds": .integer(u.seconds), "minutes": .integer(u.minutes)])
                }),
            ]
            o["end"] = m.end.map { .string($0.rfc3339) } ?? .null
            o["external"] = m.external.map { .string($0) } ?? .null
            o["name"] = m.name.map { .string($0) } ?? .null
            return .object(o)
        }
        return JSONValue.object(["period": .string(period.description), "meetings": .array(list)]).serialized
    }

    static func csv(_ meetings: [MeetingUsage]) -> String {
        var out = "meeting,external,name,host,start,end,meeting_minutes,user,role,user_seconds,user_minutes\n"
        for m in meetings {
            let head = [m.meeting, m.external ?? "", m.name ?? "", m.host, m.start.rfc3339, m.end?.rfc3339 ?? "", String(m.minutes)]
            if m.users.isEmpty { out += (head + ["", "", "", ""]).map(field).joined(separator: ",") + "\n" }
            for u in m.users {
                out += (head + [u.user, u.role, String(u.seconds), String(u.minutes)]).map(field).joined(separator: ",") + "\n"
            }
        }
        return out
    }

    /// RFC 4180 quoting, and a leading quote for text a spreadsheet would take for a formula.
    static func field(_ s: String) -> String {
        var s = s
        if let f = s.first, "=+-@".contains(f) { s = "'" + s }
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    static func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
    static func lpad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
}
