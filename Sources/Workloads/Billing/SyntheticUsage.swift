import LogLines
import LogParsers
import HostSampling
import LogSources
import SystemCalls
import UsageRecords

/// Realistic records made up from a seed, for benchmarks and property tests: hosts that beat,
/// reboot now and then, and run meetings with people joining, leaving, changing roles, opening
/// the whiteboard and going to the background; breakout rooms, recordings and storage samples.
/// Pure and deterministic: the same shape and seed give the same records.
public enum SyntheticUsage {
    public struct Shape: Sendable, Hashable {
        public var hosts: Int
        public var days: Int
        public var firstDay: CivilDate
        public var meetingsPerHostPerDay: Int
        public var peoplePerMeeting: Int
        public var heartbeatSeconds: Int64
        public var storageSampleSeconds: Int64
        public var accounts: Int

        public init(hosts: Int = 3, days: Int = 3, firstDay: CivilDate = CivilDate(year: 2026, month: 11, day: 20),
                    meetingsPerHostPerDay: Int = 4, peoplePerMeeting: Int = 6, heartbeatSeconds: Int64 = 300,
                    storageSampleSeconds: Int64 = 3600, accounts: Int = 4) {
            self.hosts = hosts
            self.days = days
            self.firstDay = firstDay
            self.meetingsPerHostPerDay = meetingsPerHostPerDay
            self.peoplePerMeeting = peoplePerMeeting
            self.heartbeatSeconds = heartbeatSeconds
            self.storageSampleSeconds = storageSampleSeconds
            self.accounts = accounts
        }

        /// A month of 1,000 hosts, for the rating benchmark.
        public static func month(hosts: Int = 1000, firstDay: CivilDate = CivilDate(year: 2026, month: 11, day: 1)) -> Shape {
            Shape(hosts: hosts, days: 30, firstDay: firstDay, meetingsPerHostPerDay: 3, peoplePerMeeting: 6,
                  heartbeatSeconds: 600, storageSampleSeconds: 6 * 3600, accounts: 50)
        }
    }

    public static func records(_ shape: Shape, seed: UInt64 = 1) -> [UsageRecord] {
        var out: [UsageRecord] = []
        for h in 0..<shape.hosts {
            var g = Generator(seed: seed &+ UInt64(h) &* 0x9E37_79B9)
            var host = HostWriter(name: "bbb\(h)", size: ["small", "medium", "large"][h % 3])
            host.run(shape, &g, accountCount: shape.accounts, into: &out)
        }
        return out
    }

    /// splitmix64: small, fast, and the same everywhere.
    struct Generator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
            z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
            return z ^ (z >> 31)
        }
        mutating func below(_ n: Int64) -> Int64 { n <= 0 ? 0 : Int64(next() % UInt64(n)) }
    }

    struct HostWriter {
        let name: String
        let size: String
        var sequence = 0

        init(name: String, size: String) {
            self.name = name
            self.size = size
        }

        mutating func add(_ t: Timestamp, _ p: Payload, _ out: inout [UsageRecord]) {
            sequence += 1
            out.append(UsageRecord(id: RecordID(rawValue: "\(name):syn:\(sequence)"), time: t, host: name, payload: p))
        }

        mutating func run(_ shape: Shape, _ g: inout Generator, accountCount: Int, into out: inout [UsageRecord]) {
            let start = shape.firstDay.startOfDay
            let end = start.adding(seconds: Int64(shape.days) * 86_400)
            // Heartbeats, with a reboot (and twenty minutes down) about once a week.
            var boot = 0
            var t = start
            while t < end {
                add(t, .hostHeartbeat(HostHeartbeat(boot: "\(name)-boot\(boot)", size: size, interval: shape.heartbeatSeconds)), &out)
                t = t.adding(seconds: shape.heartbeatSeconds)
                if g.below(7 * 86_400 / max(shape.heartbeatSeconds, 1)) == 0 {
                    boot += 1
                    t = t.adding(seconds: 1200)
                }
            }
            var recordings: [(key: String, meeting: String, bytes: Int64)] = []
            for day in 0..<shape.days {
                let dayStart = start.adding(seconds: Int64(day) * 86_400)
                for n in 0..<shape.meetingsPerHostPerDay {
                    let id = "\(name)-d\(day)-m\(n)"
                    let open = dayStart.adding(seconds: 7 * 3600 + g.below(12 * 3600))
                    let length = 5 * 60 + g.below(115 * 60)
                    let close = open.adding(seconds: length)
                    let account = "acct\(g.below(Int64(max(accountCount, 1))))"
                    add(open, .meetingStarted(MeetingStarted(meeting: id, external: "\(account):room\(n)", name: "Room \(n)",
                                                             meta: ["meta_tenant": .string(account)])), &out)
                    add(open, .activityStarted(Activity(meeting: id, activity: "whiteboard")), &out)
                    for p in 0..<shape.peoplePerMeeting {
                        let user = "\(id)-u\(p)"
                        let joined = open.adding(seconds: g.below(length / 4 + 1))
                        let left = joined.adding(seconds: g.below(close.microseconds(since: joined) / 1_000_000 + 120))
                        let client = ["HTML5", "mobile", "windows"][Int(g.below(3))]
                        add(joined, .userJoined(UserJoined(meeting: id, user: user, role: p == 0 ? "MODERATOR" : "VIEWER", client: client)), &out)
                        if g.below(4) == 0 {
                            let away = joined.adding(seconds: g.below(600))
                            add(away, .clientBackground(ClientVisibility(meeting: id, user: user)), &out)
                            add(away.adding(seconds: g.below(600)), .clientForeground(ClientVisibility(meeting: id, user: user)), &out)
                        }
                        if p == 1 && g.below(3) == 0 {
                            add(joined.adding(seconds: 60), .userRole(UserRoleChanged(meeting: id, user: user, role: "MODERATOR")), &out)
                        }
                        if left < close { add(left, .userLeft(UserLeft(meeting: id, user: user)), &out) } // else: present at the end
                    }
                    if g.below(3) == 0 {
                        let room = "\(id)-breakout"
                        let from = open.adding(seconds: length / 3)
                        add(from, .meetingStarted(MeetingStarted(meeting: room, parent: id)), &out)
                        add(from, .userJoined(UserJoined(meeting: room, user: "\(id)-u1", role: "VIEWER")), &out)
                        add(from.adding(seconds: g.below(1800) + 60), .meetingEnded(MeetingEnded(meeting: room)), &out)
                    }
                    if g.below(10) != 0 { add(close, .meetingEnded(MeetingEnded(meeting: id)), &out) } // else: the host never says
                    if g.below(2) == 0 {
                        let rec = "\(id)-rec"
                        var s = close.adding(seconds: 60)
                        for step in ["archive", "sanity", "process", "publish"] {
                            let e = s.adding(seconds: g.below(400))
                            add(e, .recordingProcessed(RecordingProcessed(recording: rec, meeting: id, step: step, started: s, ended: e)), &out)
                            s = e
                        }
                        recordings.append((rec, id, 50_000_000 + g.below(900_000_000)))
                    }
                }
                // Storage snapshots through the day, of every recording kept so far.
                var s = dayStart
                while s < dayStart.adding(seconds: 86_400) {
                    for r in recordings where g.below(50) != 0 {
                        add(s, .storageSample(StorageSample(scope: "recording", key: r.key, meeting: r.meeting, bytes: r.bytes)), &out)
                    }
                    s = s.adding(seconds: shape.storageSampleSeconds)
                }
            }
        }
    }
}
