import Testing
import UsageRecords

/// Issue 20, items 3 and 5 at the codec: offsets beyond ±23:59 are no times, and every id an
/// agent makes lies in its host's namespace.
@Suite struct TimeAndNamespaceTests {
    /// A number read from a log becomes a time only when the record form can carry it: a damaged
    /// envelope timestamp of 9e18 ms trapped on the multiplication and crashed the agent (fuzzing).
    @Test func checkedTimesRefuseWhatOverflowsOrCannotBeWritten() {
        #expect(Timestamp(checkedMilliseconds: 1_698_771_310_209) == Timestamp(milliseconds: 1_698_771_310_209))
        #expect(Timestamp(checkedMilliseconds: 9_000_000_000_000_000_000) == nil)
        #expect(Timestamp(checkedMilliseconds: -9_000_000_000_000_000) == nil)
        #expect(Timestamp(checkedSeconds: 253_402_300_799)?.rfc3339 == "9999-12-31T23:59:59.000000Z")
        #expect(Timestamp(checkedSeconds: 253_402_300_800) == nil)
        #expect(Timestamp(checkedSeconds: Int64.max) == nil)
        #expect(Timestamp(checkedSeconds: 1, microseconds: Int64.max) == nil)
        #expect(Timestamp(checkedSeconds: -62_167_219_200)?.rfc3339 == "0000-01-01T00:00:00.000000Z")
    }

    @Test(arguments: ["+99:00", "+24:00", "-24:00", "+23:60", "-00:99", "+9900", "+2400", "+99"])
    func anOffsetBeyond2359IsNoTime(offset: String) {
        let text = "2026-11-20T10:00:00" + offset
        #expect(Timestamp(rfc3339: text) == nil, "\(text) was read as \(Timestamp(rfc3339: text)?.rfc3339 ?? "")")
        #expect(throws: TimestampError(.offsetOutOfRange)) { try Timestamp.parse(rfc3339: text) }
    }

    @Test func theLargestOffsetsAreTimes() throws {
        #expect(try Timestamp.parse(rfc3339: "2026-11-20T10:00:00+23:59").rfc3339 == "2026-11-19T10:01:00.000000Z")
        #expect(try Timestamp.parse(rfc3339: "2026-11-20T10:00:00-23:59").rfc3339 == "2026-11-21T09:59:00.000000Z")
        #expect(try Timestamp.parse(rfc3339: "2026-11-20T10:00:00+0530").rfc3339 == "2026-11-20T04:30:00.000000Z")
    }

    @Test func eachReasonIsSaid() {
        #expect(throws: TimestampError(.noSuchDate)) { try Timestamp.parse(rfc3339: "2026-02-30T00:00:00Z") }
        #expect(throws: TimestampError(.noSuchTime)) { try Timestamp.parse(rfc3339: "2026-02-03T24:00:00Z") }
        #expect(throws: TimestampError(.noZone)) { try Timestamp.parse(rfc3339: "2026-02-03T10:00:00") }
        #expect(throws: TimestampError(.layout)) { try Timestamp.parse(rfc3339: "yesterday") }
        #expect(throws: TimestampError(.layout)) { try Timestamp.parse(rfc3339: "2026-02-03T10:00:00Zjunk") }
    }

    /// Years 0000 and 9999 are RFC 3339 times; the aggregator's window refuses them, not the codec.
    @Test func theExtremeYearsAreRead() throws {
        #expect(try Timestamp.parse(rfc3339: "0000-01-01T00:00:00Z").rfc3339 == "0000-01-01T00:00:00.000000Z")
        #expect(try Timestamp.parse(rfc3339: "9999-12-31T23:59:59Z").rfc3339 == "9999-12-31T23:59:59.000000Z")
    }

    @Test func aRecordWithAnOffsetBeyond2359IsRefusedNamingTheField() {
        let bad = #"{"id":"h:1","kind":"user.left","time":"2026-11-20T10:00:00+99:00","host":"h","meeting":"m","user":"u"}"#
        do {
            let r = try RecordCodec.decode(bad)
            Issue.record("decoded as \(r.time.rfc3339)")
        } catch {
            #expect(error.code == .invalidTime)
            #expect(error.field == "time")
            #expect(error.description.contains("beyond ±23:59"), "\(error)")
        }
        let badEnd = #"{"id":"h:2","kind":"recording.processed","time":"2026-11-20T10:00:00Z","host":"h","recording":"r","meeting":"m","step":"archive","started":"2026-11-20T10:00:00Z","ended":"2026-11-20T11:00:00-25:00"}"#
        #expect(throws: RecordLineError.self) { try RecordCodec.decode(badEnd) }
        do { _ = try RecordCodec.decode(badEnd) } catch { #expect(error.field == "ended") }
    }

    @Test(arguments: ["bbb1", "bbb1.example.org", "hôte", String(repeating: "a", count: 80), "a b", "x:y"])
    func everyIdAnAgentMakesLiesInItsHostsNamespace(host: String) {
        let namespace = RecordID.namespace(host: host)
        #expect(namespace.hasSuffix(":"))
        #expect(namespace.dropLast().contains(":") == false, "the namespace ends at its one colon")
        #expect(RecordID.problem(with: namespace + "x") == nil)
        let t = Timestamp(seconds: 1_795_000_000)
        let ids: [RecordID] = [
            .fileLine(host: host, fingerprint: 0x3f9a_0c1d_2e4b_5a69, offset: 1_048_576),
            .fileLine(host: host, fingerprint: 1, offset: 9, index: 3),
            .fileLine(host: host, fingerprint: 1, offset: 9, index: -1),
            .journalEntry(host: host, cursor: "s=abc;i=42;b=x;m=1;t=2;x=3"),
            .journalEntry(host: host, cursor: "no sequence here"),
            .streamLine(host: host, source: "stdin", line: 7, text: "a line"),
            .sample(host: host, kind: .hostHeartbeat, key: "host", scheduled: t),
            .sample(host: host, kind: .storageSample, key: "recordings:r1", scheduled: t),
        ]
        for id in ids {
            #expect(id.rawValue.hasPrefix(namespace), "\(id) is outside \(namespace)")
            #expect(id.isInNamespace(of: host))
        }
        #expect(!ids[0].isInNamespace(of: "z" + host))
        #expect(!RecordID(rawValue: "h2:host.heartbeat:0:1").isInNamespace(of: "h1"))
        #expect(!RecordID(rawValue: "h1").isInNamespace(of: "h1"), "the colon belongs to the namespace")
    }
}
