import HostSampling
import LogLines
import LogParsers
import LogSources
import Workloads
import Foundation
import UsageRecords

/// Issue 17: the record codec on one core, on records shaped as a BigBlueButton host makes them
/// (a dozen `meta_*` keys on each meeting start, non-ASCII names, quotes and backslashes), against
/// Foundation's JSONSerialization reading and writing the same lines.
enum CodecFigures {
    static func records(_ count: Int) -> [UsageRecord] {
        var out: [UsageRecord] = []
        out.reserveCapacity(count)
        let host = "bbb-eu-1.example.org"
        var meeting = ""
        for i in 0..<count {
            let time = Timestamp(microseconds: 1_795_000_000_000_000 + Int64(i) * 1_234_567)
            let id = RecordID.fileLine(host: host, fingerprint: 0x9E37_79B9_7F4A_7C15, offset: UInt64(i) * 731)
            let payload: Payload
            switch i % 6 {
            case 0:
                meeting = "\(String(i, radix: 16).padding(toLength: 40, withPad: "c", startingAt: 0))-1698771157\(i % 1000)"
                var meta: [String: JSONValue] = [:]
                for k in ["bbb-origin", "bbb-origin-version", "bbb-origin-server-name", "bbb-context", "bbb-context-id",
                          "bbb-recording-ready-url", "tenant", "price_per_hour", "size", "course", "teacher", "room-label"] {
                    meta["meta_" + k] = .string("Zürich «Kurs» \"\(i)\" C:\\rooms\\\(k) – Ünïcödé")
                }
                payload = .meetingStarted(MeetingStarted(meeting: meeting, external: "course-\(i)", name: "Séminaire \"Nº \(i)\" \\ Straße", meta: meta))
            case 1, 2:
                payload = .userJoined(UserJoined(meeting: meeting, user: "w_\(i)abcdefgh", role: i % 2 == 0 ? "MODERATOR" : "VIEWER", client: "HTML5"))
            case 3:
                payload = .activityStarted(Activity(meeting: meeting, user: "w_\(i)abcdefgh", activity: "whiteboard"))
            case 4:
                payload = .userLeft(UserLeft(meeting: meeting, user: "w_\(i - 3)abcdefgh"))
            default:
                payload = .meetingEnded(MeetingEnded(meeting: meeting, reason: "ENDED_AFTER_USER_LOGGED_OUT"))
            }
            out.append(UsageRecord(id: id, time: time, host: host, payload: payload))
        }
        return out
    }

    static func rates(records count: Int) throws -> [String] {
        let records = records(count)
        // Ours: into one reused buffer, as the spool and `meetmeter parse` write.
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 16)
        var bytes = 0
        let encode = Measure.seconds {
            bytes = 0
            for r in records {
                buffer.removeAll(keepingCapacity: true)
                RecordCodec.encode(r, into: &buffer)
                bytes += buffer.count
            }
        }
        let lines = records.map { r -> [UInt8] in
            var b: [UInt8] = []
            RecordCodec.encode(r, into: &b)
            return b
        }
        var decoded = 0
        let decode = try Measure.seconds {
            decoded = 0
            for line in lines {
                _ = try line.withUnsafeBufferPointer { try RecordCodec.decode($0) }
                decoded += 1
            }
        }
        // Foundation: the same lines parsed to dictionaries, and those written back.
        let datas = lines.map { Data($0) }
        var objects: [Any] = []
        let foundationDecode = try Measure.seconds {
            objects = try datas.map { try JSONSerialization.jsonObject(with: $0) }
        }
        let foundationEncode = try Measure.seconds {
            for o in objects { _ = try JSONSerialization.data(withJSONObject: o, options: [.sortedKeys]) }
        }
        precondition(decoded == count)
        let mb = Double(bytes) / 1e6
        return [
            Figure(what: "codec encode, \(count) records (\(Int(mb)) MB, \(bytes / count) bytes a record)", ours: Double(count) / encode,
                   baseline: Double(count) / foundationEncode, baselineName: "JSONSerialization.data", unit: "records/s").line,
            Figure(what: "codec decode, the same lines", ours: Double(count) / decode,
                   baseline: Double(count) / foundationDecode, baselineName: "JSONSerialization.jsonObject", unit: "records/s").line,
        ]
    }
}
