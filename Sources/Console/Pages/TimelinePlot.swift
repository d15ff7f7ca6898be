import Billing
import UsageRecords

/// A meeting drawn as a picture: one lane per person, each presence interval a bar from join to
/// leave, with the meeting's own span behind them; under each bar, its live-collaboration stretches
/// shaded by whether and why they are billed (a moderator present, the grace period running, no
/// moderator), and above it the whiteboard's (in use, paused in the background); the person's
/// records as marks, each a link to the record. Every shape's tooltip says who, when and why.
enum TimelinePlot {
    static func svg(_ m: MeetingUsage, stretches: [BillableStretch], records: [UsageRecord], link: (RecordID) -> String) -> String {
        let lanes = m.users
        let width = 720, left = 140, right = 10, laneHeight = 28, top = 24
        let height = top + max(lanes.count, 1) * laneHeight + 24
        let from = m.start.microseconds
        let to = max(m.end?.microseconds ?? m.countedUntil.microseconds,
                     lanes.flatMap(\.intervals).map(\.end.microseconds).max() ?? from, from + 1)
        func x(_ t: Timestamp) -> Int {
            let clamped = min(max(t.microseconds, from), to)
            return left + Int(Double(width - left - right) * Double(clamped - from) / Double(to - from))
        }
        var out = "<svg class=\"plot timeline\" viewBox=\"0 0 \(width) \(height)\" width=\"\(width)\" height=\"\(height)\" role=\"img\" aria-label=\"who was in the meeting when\">"
        out += "<rect class=\"span\" x=\"\(left)\" y=\"\(top - 6)\" width=\"\(width - left - right)\" height=\"\(max(lanes.count, 1) * laneHeight + 4)\"/>"
        out += "<text x=\"\(left)\" y=\"14\">\(HTML.time(m.start))</text>"
        out += "<text x=\"\(width - right)\" y=\"\(height - 6)\" text-anchor=\"end\">\(HTML.time(Timestamp(microseconds: to)))</text>"
        var marks: [String: [UsageRecord]] = [:]
        for r in records { if let user = person(of: r.payload) { marks[user, default: []].append(r) } }
        for (lane, person) in lanes.enumerated() {
            let y = top + lane * laneHeight + 4
            out += "<text x=\"4\" y=\"\(y + 13)\">\(HTML.escape(String(person.user.prefix(20))))</text>"
            for i in person.intervals {
                let x0 = x(i.start), x1 = max(x(i.end), x0 + 2)
                let kind = i.role.uppercased() == "MODERATOR" ? "moderator" : "viewer"
                out += "<rect class=\"presence \(kind)\" x=\"\(x0)\" y=\"\(y)\" width=\"\(x1 - x0)\" height=\"16\" data-user=\"\(HTML.escape(person.user))\" data-closure=\"\(i.closure.rawValue)\">"
                out += "<title>\(HTML.escape(person.user)) (\(HTML.escape(i.role))): \(i.start.rfc3339) to \(i.end.rfc3339), ended by \(i.closure.rawValue)</title></rect>"
            }
            for s in stretches where s.user == person.user {
                let x0 = x(s.start), x1 = max(x(s.end), x0 + 1)
                // The whiteboard's band sits on top of the bar, live collaboration's at its foot.
                let band = s.reason == .whiteboard || s.reason == .backgroundPause ? y - 3 : y + 13
                out += "<rect class=\"stretch \(s.reason.rawValue)\" x=\"\(x0)\" y=\"\(band)\" width=\"\(x1 - x0)\" height=\"4\" data-reason=\"\(s.reason.rawValue)\" data-meter=\"\(HTML.escape(s.meter))\">"
                out += "<title>\(HTML.escape(s.meter)), \(s.billable ? "billed" : "not billed"): \(s.reason.rawValue), \(s.start.rfc3339) to \(s.end.rfc3339)</title></rect>"
            }
            for r in marks[person.user] ?? [] {
                out += "<a href=\"\(HTML.escape(link(r.id)))\"><circle class=\"mark\" cx=\"\(x(r.time))\" cy=\"\(y + 8)\" r=\"3\" data-record=\"\(HTML.escape(r.id.rawValue))\">"
                out += "<title>\(HTML.escape(r.kind.rawValue)) at \(r.time.rfc3339): \(HTML.escape(r.id.rawValue))</title></circle></a>"
            }
        }
        return out + "</svg>"
    }

    /// The person a record is about, if any (activities for the whole meeting name nobody).
    static func person(of payload: Payload) -> String? {
        switch payload {
        case .userJoined(let p): p.user
        case .userLeft(let p): p.user
        case .userRole(let p): p.user
        case .activityStarted(let p), .activityStopped(let p): p.user
        case .clientBackground(let p), .clientForeground(let p): p.user
        default: nil
        }
    }
}
