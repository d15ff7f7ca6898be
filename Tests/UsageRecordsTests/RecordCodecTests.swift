import Testing
import UsageRecords

@Suite struct RecordCodecTests {
    static let joined = UsageRecord(
        id: .fileLine(host: "bbb1", fingerprint: 0xfeed, offset: 1234),
        time: Timestamp(rfc3339: "2026-11-22T10:15:00.123456Z")!,
        host: "bbb1",
        payload: .userJoined(UserJoined(meeting: "m1-1700000000000", user: "w_abc", role: "MODERATOR", client: "HTML5")))

    @Test func encodesInFixedOrder() {
        let line = RecordCodec.encode(Self.joined)
        #expect(line == #"{"id":"bbb1:f:000000000000feed:1234:0","kind":"user.joined","time":"2026-11-22T10:15:00.123456Z","host":"bbb1","meeting":"m1-1700000000000","user":"w_abc","role":"MODERATOR","client":"HTML5"}"#)
    }

    static let everyKind: [UsageRecord] = {
        let t = Timestamp(seconds: 1_795_000_000)
        let payloads: [Payload] = [
            .meetingStarted(MeetingStarted(meeting: "m", external: "e", name: "Maths ü \"quoted\"", meta: ["meta_tenant": .string("acme")], parent: "p")),
            .meetingEnded(MeetingEnded(meeting: "m", reason: "ENDED_FROM_API")),
            .userJoined(UserJoined(meeting: "m", user: "u", role: "VIEWER")),
            .userLeft(UserLeft(meeting: "m", user: "u")),
            .userRole(UserRoleChanged(meeting: "m", user: "u", role: "MODERATOR")),
            .activityStarted(Activity(meeting: "m", user: "u", activity: "whiteboard")),
            .activityStopped(Activity(meeting: "m", activity: "recording")),
            .clientBackground(ClientVisibility(meeting: "m", user: "u")),
            .clientForeground(ClientVisibility(meeting: "m", user: "u")),
            .recordingProcessed(RecordingProcessed(recording: "r", meeting: "m", step: "process", started: t, ended: t.adding(seconds: 200))),
            .storageSample(StorageSample(scope: "recording", key: "r", meeting: "m", bytes: 123_456_789_012)),
            .hostHeartbeat(HostHeartbeat(boot: "0123456789abcdef0123456789abcdef", size: "large", interval: 60)),
            .other("whiteboard.custom"),
        ]
        return payloads.enumerated().map { i, p in
            UsageRecord(id: RecordID(rawValue: "h:t:\(i)"), time: t, host: "h", payload: p,
                        extra: i == 12 ? ["anything": .array([.integer(1), .null])] : ["note": .string("kept")])
        }
    }()

    @Test(arguments: everyKind) func roundTrips(record: UsageRecord) throws {
        let line = RecordCodec.encode(record)
        let decoded = try RecordCodec.decode(line)
        #expect(decoded == record)
        #expect(RecordCodec.encode(decoded) == line)
    }

    @Test func unknownKindIsKeptNotRefused() throws {
        let r = try RecordCodec.decode(#"{"id":"a:1","kind":"future.thing","time":"2026-01-01T00:00:00Z","host":"h","x":{"y":[1,2.5e3]}}"#)
        #expect(r.kind == RecordKind("future.thing"))
        #expect(r.extra["x"] == .object(["y": .array([.number("1"), .number("2.5e3")])]))
        #expect(RecordCodec.encode(r) == #"{"id":"a:1","kind":"future.thing","time":"2026-01-01T00:00:00.000000Z","host":"h","x":{"y":[1,2.5e3]}}"#)
    }

    @Test func acceptsOffsetsAndNormalisesToUTC() throws {
        let r = try RecordCodec.decode(#"{"id":"a:1","kind":"user.left","time":"2026-11-22T12:15:00.5+02:00","host":"h","meeting":"m","user":"u"}"#)
        #expect(r.time.rfc3339 == "2026-11-22T10:15:00.500000Z")
    }

    /// Every way a line can be wrong gets its own code and names the field at fault.
    static let badLines: [(String, RecordLineError.Code, String?)] = [
        ("", .emptyLine, nil),
        ("   ", .emptyLine, nil),
        ("{\"id\":", .notJSON, nil),
        ("{\"id\":\"a\",}", .notJSON, nil),
        ("{\"id\":\"a\",\"id\":\"b\"}", .notJSON, nil),
        ("[1,2]", .notAnObject, nil),
        ("\"text\"", .notAnObject, nil),
        (#"{"kind":"user.left","time":"2026-01-01T00:00:00Z","host":"h","meeting":"m","user":"u"}"#, .missingField, "id"),
        (#"{"id":"a","time":"2026-01-01T00:00:00Z","host":"h"}"#, .missingField, "kind"),
        (#"{"id":"a","kind":"user.left","host":"h","meeting":"m","user":"u"}"#, .missingField, "time"),
        (#"{"id":"a","kind":"user.left","time":"2026-01-01T00:00:00Z","meeting":"m","user":"u"}"#, .missingField, "host"),
        (#"{"id":"a","kind":"user.left","time":"2026-01-01T00:00:00Z","host":"h","user":"u"}"#, .missingField, "meeting"),
        (#"{"id":"a","kind":"user.joined","time":"2026-01-01T00:00:00Z","host":"h","meeting":"m","user":"u"}"#, .missingField, "role"),
        (#"{"id":7,"kind":"user.left","time":"2026-01-01T00:00:00Z","host":"h","meeting":"m","user":"u"}"#, .wrongType, "id"),
        (#"{"id":"a","kind":"user.left","time":"2026-01-01T00:00:00Z","host":"h","meeting":["m"],"user":"u"}"#, .wrongType, "meeting"),
        (#"{"id":"a","kind":"storage.sample","time":"2026-01-01T00:00:00Z","host":"h","scope":"s","key":"k","bytes":"12"}"#, .wrongType, "bytes"),
        (#"{"id":"a","kind":"meeting.started","time":"2026-01-01T00:00:00Z","host":"h","meeting":"m","meta":"x"}"#, .wrongType, "meta"),
        (#"{"id":"","kind":"user.left","time":"2026-01-01T00:00:00Z","host":"h","meeting":"m","user":"u"}"#, .emptyField, "id"),
        (#"{"id":"a","kind":"user.left","time":"2026-01-01T00:00:00Z","host":"","meeting":"m","user":"u"}"#, .emptyField, "host"),
        (#"{"id":"a b","kind":"user.left","time":"2026-01-01T00:00:00Z","host":"h","meeting":"m","user":"u"}"#, .invalidID, "id"),
        (#"{"id":"a","kind":"user.left","time":"yesterday","host":"h","meeting":"m","user":"u"}"#, .invalidTime, "time"),
        (#"{"id":"a","kind":"user.left","time":"2026-02-30T00:00:00Z","host":"h","meeting":"m","user":"u"}"#, .invalidTime, "time"),
        (#"{"id":"a","kind":"user.left","time":"2026-01-01T00:00:00","host":"h","meeting":"m","user":"u"}"#, .invalidTime, "time"),
        (#"{"id":"a","kind":"storage.sample","time":"2026-01-01T00:00:00Z","host":"h","scope":"s","key":"k","bytes":1.5}"#, .invalidValue, "bytes"),
        (#"{"id":"a","kind":"storage.sample","time":"2026-01-01T00:00:00Z","host":"h","scope":"s","key":"k","bytes":-1}"#, .invalidValue, "bytes"),
        (#"{"id":"a","kind":"host.heartbeat","time":"2026-01-01T00:00:00Z","host":"h","boot":"b","size":"s","interval":0}"#, .invalidValue, "interval"),
        (#"{"id":"a","kind":"recording.processed","time":"2026-01-01T00:00:00Z","host":"h","recording":"r","meeting":"m","step":"process","started":"2026-01-01T00:10:00Z","ended":"2026-01-01T00:00:00Z"}"#, .invalidValue, "ended"),
    ]

    @Test(arguments: badLines) func refusesBadLines(line: String, code: RecordLineError.Code, field: String?) {
        do {
            _ = try RecordCodec.decode(line)
            Issue.record("decoded a bad line: \(line)")
        } catch {
            #expect(error.code == code, "\(line): \(error)")
            #expect(error.field == field, "\(line): \(error)")
            #expect(!error.description.isEmpty)
        }
    }

    @Test func refusesInvalidUTF8() {
        var bytes = Array(#"{"id":"a","kind":"x","time":"2026-01-01T00:00:00Z","host":"h","n":"#.utf8)
        bytes += [0x22, 0xC3, 0x28, 0x22, 0x7D]
        let result = bytes.withUnsafeBufferPointer { buf in
            Result { () throws(RecordLineError) in try RecordCodec.decode(buf) }
        }
        guard case .failure(let e) = result else { Issue.record("decoded invalid UTF-8"); return }
        #expect(e.code == .notUTF8)
    }

    @Test func refusesTooLongLines() {
        let big = String(repeating: "x", count: RecordCodec.maximumLineBytes + 1)
        do {
            _ = try RecordCodec.decode(big)
            Issue.record("decoded a line over the limit")
        } catch {
            #expect(error.code == .tooLong)
        }
    }

    @Test func acceptsATrailingNewline() throws {
        let line = RecordCodec.encode(Self.joined) + "\r\n"
        #expect(try RecordCodec.decode(line) == Self.joined)
    }

    @Test func escapesControlCharacters() throws {
        var r = Self.joined
        r.payload = .userLeft(UserLeft(meeting: "m\n\t\u{1}\u{2028}", user: "\\\""))
        let line = RecordCodec.encode(r)
        #expect(!line.contains("\n"))
        #expect(try RecordCodec.decode(line) == r)
    }
}

@Suite struct WireProtocolTests {
    @Test func helloRoundTrips() throws {
        let hello = WireProtocol.Hello(host: "bbb1", token: "s3cret")
        #expect(try WireProtocol.Hello.decode(hello.line) == hello)
        guard case .hello(let back) = try WireProtocol.decodeReply(WireProtocol.Hello(host: "bbb1", token: nil).line) else {
            Issue.record("not a hello"); return
        }
        #expect(back.host == "bbb1")
    }

    @Test func acksRoundTrip() throws {
        let ack = WireProtocol.Ack(line: 3, id: "x:1", status: .refused, code: "missing-field", error: "field 'user': is missing")
        #expect(try WireProtocol.decodeReply(ack.encoded) == .ack(ack))
        let fatal = WireProtocol.Fatal(code: "auth", error: "wrong token for host bbb1")
        #expect(try WireProtocol.decodeReply(fatal.encoded) == .fatal(fatal))
        // A fatal line without words (found by the fuzz replay): read, and written back alike.
        let bare = try WireProtocol.decodeReply(#"{"fatal":"busy"}"#)
        #expect(bare == .fatal(WireProtocol.Fatal(code: "busy", error: "")))
        let empty = WireProtocol.Fatal(code: "busy", error: "")
        #expect(try WireProtocol.decodeReply(empty.encoded) == .fatal(empty))
    }

    @Test func refusesAForeignHello() {
        #expect(throws: RecordLineError.self) { try WireProtocol.Hello.decode(#"{"hello":"http","version":1,"host":"h"}"#) }
    }
}

@Suite struct IdentityTests {
    @Test func journalIdsComeFromSeqnums() {
        let cursor = "s=6f1c5e1a2b3c4d5e6f708192a3b4c5d6;i=1a2b;b=0123456789abcdef0123456789abcdef;m=1f2e3d;t=5f0e1d2c3b4a5;x=abcdef0123456789"
        #expect(RecordID.journalEntry(host: "bbb1", cursor: cursor).rawValue == "bbb1:j:6f1c5e1a2b3c4d5e6f708192a3b4c5d6:1a2b:0")
        #expect(RecordID.journalEntry(host: "bbb1", cursor: "odd") == RecordID.journalEntry(host: "bbb1", cursor: "odd"))
        #expect(RecordID.journalEntry(host: "bbb1", cursor: "odd") != RecordID.journalEntry(host: "bbb1", cursor: "odd2"))
    }

    @Test func samplesShareAnIdPerSlot() {
        let t = Timestamp(seconds: 1_800_000_000)
        #expect(RecordID.sample(host: "h", kind: .storageSample, key: "/var", scheduled: t)
            == RecordID.sample(host: "h", kind: .storageSample, key: "/var", scheduled: t))
        #expect(RecordID.sample(host: "h", kind: .storageSample, key: "/var", scheduled: t)
            != RecordID.sample(host: "h", kind: .storageSample, key: "/var", scheduled: t.adding(seconds: 900)))
    }

    @Test func idsAreValid() {
        let id = RecordID.fileLine(host: "host with spaces:and:colons", fingerprint: 1, offset: 2)
        #expect(RecordID.problem(with: id.rawValue) == nil)
        #expect(id.rawValue == "host_with_spaces_and_colons:f:0000000000000001:2:0")
    }

    /// The ids already stored must be made again byte for byte: a changed id is a doubled record.
    @Test func fileLineIdsKeepTheirExactForm() {
        #expect(RecordID.fileLine(host: "bbb-1.example.org", fingerprint: .max, offset: 0, index: 3).rawValue
            == "bbb-1.example.org:f:ffffffffffffffff:0:3")
        #expect(RecordID.fileLine(host: "h", fingerprint: 0x0123_4567_89AB_CDEF, offset: 42).rawValue
            == "h:f:0123456789abcdef:42:0")
        let long = String(repeating: "a", count: 70)
        #expect(RecordID.fileLine(host: long, fingerprint: 0, offset: 1).rawValue
            == String(repeating: "a", count: 64) + ":f:0000000000000000:1:0")
        #expect(RecordID.fileLine(host: "hôte", fingerprint: 0, offset: 1).rawValue == "h_te:f:0000000000000000:1:0")
        #expect(RecordID.fileLine(host: "h", fingerprint: 10, offset: .max, index: 1234).rawValue
            == "h:f:000000000000000a:18446744073709551615:1234")
        #expect(RecordID.fileLine(host: "h", fingerprint: 0, offset: 10, index: 10).rawValue == "h:f:0000000000000000:10:10")
        #expect(RecordID.fileLine(host: "h", fingerprint: 0, offset: 9, index: -1).rawValue == "h:f:0000000000000000:9:-1")
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-22T10:15:00.000000Z", Int64(1_795_342_500_000_000)),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999999Z", -1),
        ("2021-05-05T04:04:03.768+02:00", 1_620_180_243_768_000),
        ("2020-04-14T15:57:14.463-04:00", 1_586_894_234_463_000),
        ("2024-02-29 12:00:00.1Z", 1_709_208_000_100_000),
        ("2021-06-23T18:59:24.130671+00:00", 1_624_474_764_130_671),
    ])
    func parses(text: String, micros: Int64) {
        #expect(Timestamp(rfc3339: text)?.microseconds == micros)
    }

    @Test func formats() {
        #expect(Timestamp(microseconds: -1).rfc3339 == "1969-12-31T23:59:59.999999Z")
        #expect(Timestamp(seconds: 1_798_761_600).rfc3339 == "2027-01-01T00:00:00.000000Z")
    }

    @Test func isoWeekdays() {
        #expect(CivilDate(year: 2026, month: 11, day: 22).isoWeekday == 7) // a Sunday
        #expect(CivilDate(year: 2026, month: 12, day: 28).isoWeekday == 1)
        #expect(CivilDate(daysSinceEpoch: CivilDate(year: 2000, month: 2, day: 29).daysSinceEpoch) == CivilDate(year: 2000, month: 2, day: 29))
    }
}
