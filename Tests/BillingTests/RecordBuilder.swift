import UsageRecords

/// Records written by hand for tests: a host, a clock, and a counter for ids.
struct RecordBuilder {
    var host: String
    /// Tells apart the ids of two builders for one host.
    var prefix: String
    private var counter = 0

    init(host: String = "bbb1", prefix: String = "t") {
        self.host = host
        self.prefix = prefix
    }

    static func at(_ text: String) -> Timestamp {
        guard let t = Timestamp(rfc3339: text) else { fatalError("bad time in a test: \(text)") }
        return t
    }

    mutating func record(_ time: String, _ payload: Payload) -> UsageRecord {
        counter += 1
        return UsageRecord(id: RecordID(rawValue: "\(host):\(prefix):\(counter)"), time: Self.at(time), host: host, payload: payload)
    }

    mutating func started(_ time: String, _ meeting: String, external: String? = nil, name: String? = nil,
                          meta: [String: JSONValue] = [:], parent: String? = nil) -> UsageRecord {
        record(time, .meetingStarted(MeetingStarted(meeting: meeting, external: external, name: name, meta: meta, parent: parent)))
    }

    mutating func ended(_ time: String, _ meeting: String) -> UsageRecord {
        record(time, .meetingEnded(MeetingEnded(meeting: meeting)))
    }

    mutating func joined(_ time: String, _ meeting: String, _ user: String, _ role: String = "VIEWER", client: String? = nil) -> UsageRecord {
        record(time, .userJoined(UserJoined(meeting: meeting, user: user, role: role, client: client)))
    }

    mutating func left(_ time: String, _ meeting: String, _ user: String) -> UsageRecord {
        record(time, .userLeft(UserLeft(meeting: meeting, user: user)))
    }

    mutating func role(_ time: String, _ meeting: String, _ user: String, _ role: String) -> UsageRecord {
        record(time, .userRole(UserRoleChanged(meeting: meeting, user: user, role: role)))
    }

    mutating func whiteboard(_ time: String, _ meeting: String, _ user: String?, started: Bool) -> UsageRecord {
        let a = Activity(meeting: meeting, user: user, activity: "whiteboard")
        return record(time, started ? .activityStarted(a) : .activityStopped(a))
    }

    mutating func background(_ time: String, _ meeting: String, _ user: String) -> UsageRecord {
        record(time, .clientBackground(ClientVisibility(meeting: meeting, user: user)))
    }

    mutating func foreground(_ time: String, _ meeting: String, _ user: String) -> UsageRecord {
        record(time, .clientForeground(ClientVisibility(meeting: meeting, user: user)))
    }

    mutating func heartbeat(_ time: String, boot: String, size: String = "medium", interval: Int64 = 60) -> UsageRecord {
        record(time, .hostHeartbeat(HostHeartbeat(boot: boot, size: size, interval: interval)))
    }

    mutating func processed(_ recording: String, _ meeting: String, step: String, from: String, to: String) -> UsageRecord {
        record(to, .recordingProcessed(RecordingProcessed(recording: recording, meeting: meeting, step: step,
                                                           started: Self.at(from), ended: Self.at(to))))
    }

    mutating func sample(_ time: String, key: String, meeting: String? = nil, bytes: Int64, scope: String = "recording") -> UsageRecord {
        record(time, .storageSample(StorageSample(scope: scope, key: key, meeting: meeting, bytes: bytes)))
    }
}

/// A deterministic shuffle (a linear congruential generator), so that a failing order can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

extension Array where Element == UsageRecord {
    /// The records reordered and some sent twice, as an at-least-once wire may deliver them.
    func shuffledWithDuplicates(seed: UInt64) -> [UsageRecord] {
        var g = SeededGenerator(seed: seed)
        var out = self
        for r in self where g.next() % 3 == 0 { out.append(r) }
        out.shuffle(using: &g)
        return out
    }
}
