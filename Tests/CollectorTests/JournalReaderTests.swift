@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads
import Testing
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

/// The journal reader against journal files written by the real systemd-journal-remote.
extension JournalSuites {
@Suite(.serialized) struct JournalReaderTests {
    static let t0: UInt64 = 1_795_000_000_000_000

    @Test(.needsJournalRemote)
    func matchesUnitsAsJournalctlDoesAndIdentifiers() async throws {
        let dir = sourceTestDirectory("jmatch")
        defer { removeSourceTestDirectory(dir) }
        let unit = "bbb-web.service"
        await writeJournal(dir + "/a.journal", [
            .message("own", time: Self.t0 + 1, [("_SYSTEMD_UNIT", unit), ("SYSLOG_IDENTIFIER", "java"), ("_PID", "77")]),
            .message("pid1", time: Self.t0 + 2, [("_PID", "1"), ("UNIT", unit), ("_SYSTEMD_UNIT", "init.scope")]),
            .message("coredump", time: Self.t0 + 3, [("_UID", "0"), ("MESSAGE_ID", "fc2e22bc6ee647b6b90729ab34a250b1"), ("COREDUMP_UNIT", unit)]),
            .message("object", time: Self.t0 + 4, [("_UID", "0"), ("OBJECT_SYSTEMD_UNIT", unit)]),
            .message("other unit", time: Self.t0 + 5, [("_SYSTEMD_UNIT", "other.service")]),
            .message("UNIT= not from PID 1", time: Self.t0 + 6, [("_PID", "4242"), ("UNIT", unit)]),
            .message("identifier", time: Self.t0 + 7, [("SYSLOG_IDENTIFIER", "jicofo")]),
            .message("other identifier", time: Self.t0 + 8, [("SYSLOG_IDENTIFIER", "jvb")]),
        ])
        let reader = JournalReader(configuration: .init(directory: dir, units: [unit], identifiers: ["jicofo"], follow: false),
                                   logger: sourceLogger())
        let sink = LineSink()
        try await reader.run { await sink.add($0) }
        let lines = await sink.lines
        #expect(lines.map(\.text) == ["own", "pid1", "coredump", "object", "identifier"])
        #expect(lines.map(\.origin) == ["java", "init.scope", nil, nil, "jicofo"])
        #expect(lines.map { $0.time?.microseconds } == (1...4).map { Int64(Self.t0) + $0 } + [Int64(Self.t0) + 7])
        #expect(lines.allSatisfy { $0.boot == sourceTestBoot })
        // The same selection journalctl -u makes (plus the identifier).
        #expect(system("test $(journalctl -D '\(dir)' -u \(unit) -o cat | wc -l) -eq 4") == 0)
    }

    @Test(.needsJournalRemote)
    func followsResumesAfterItsCursorAndSurvivesACrash() async throws {
        let dir = sourceTestDirectory("jfollow")
        defer { removeSourceTestDirectory(dir) }
        let file = dir + "/j.journal"
        let store = try PositionStore(directory: dir + "-positions")
        defer { removeSourceTestDirectory(dir + "-positions") }
        let total = 1200, chunk = 100
        var next = 0
        func writeChunk() async {
            await writeJournal(file, (next..<(next + chunk)).map { i in
                .message("entry \(i)", time: Self.t0 + UInt64(i) * 1000, [("SYSLOG_IDENTIFIER", "bbb-apps-akka")])
            } + [.message("noise \(next)", time: Self.t0 + UInt64(next) * 1000 + 1, [("SYSLOG_IDENTIFIER", "cron")])])
            next += chunk
        }
        await writeChunk()
        let sink = LineSink()
        func reader() -> JournalReader {
            JournalReader(configuration: .init(directory: dir, identifiers: ["bbb-apps-akka"], positions: store, batchLines: 64),
                          logger: sourceLogger())
        }
        var round = 0
        while next < total {
            let r = reader()
            let task = Task { try await r.run { await sink.add($0) } }
            let target = next
            #expect(await sourceEventually { await Set(sink.texts).count == target })
            await writeChunk()   // followed while running
            let target2 = next
            #expect(await sourceEventually { await Set(sink.texts).count == target2 })
            if round == 3 {
                // Crash: everything after this snapshot of the position is delivered but not saved.
                let snapshot = try PosixFile.readWhole(store.path(for: "journal"))
                await writeChunk()
                let target3 = next
                #expect(await sourceEventually { await Set(sink.texts).count == target3 })
                task.cancel()
                try await task.value
                try PosixFile.replaceAtomically(store.path(for: "journal"), with: snapshot!)
            } else {
                task.cancel()
                try await task.value
            }
            if next < total { await writeChunk() }   // written while stopped
            round += 1
        }
        // A clean restart with nothing new delivers nothing: the saved entry itself is skipped.
        let countBefore = await sink.count
        let last = reader()
        try await runSource(last, sink: sink) { await Set(sink.texts).count == total }
        try await Task.sleep(for: .milliseconds(300))
        let again = reader()
        let extraSink = LineSink()
        try await runSource(again, sink: extraSink, seconds: 0.5) { false }
        #expect(await extraSink.count == 0, "re-read the saved entry")
        let lines = await sink.lines
        #expect(Set(lines.map(\.text)) == Set((0..<total).map { "entry \($0)" }))
        #expect(Set(lines.map { sourcePositionKey($0.position) }).count == total)
        #expect(lines.count > countBefore || countBefore >= total)
        // Only the crash re-delivered anything, and only the unsaved tail of one round.
        #expect(lines.count - total <= 2 * chunk)
    }

    @Test(.needsJournalRemote)
    func aVacuumedCursorIsRecoveredFromWithTheGapReported() async throws {
        let dir = sourceTestDirectory("jvacuum")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "-pos")
        defer { removeSourceTestDirectory(dir + "-pos") }
        let old = dir + "/old.journal"
        await writeJournal(old, (0..<50).map { .message("e\($0)", time: Self.t0 + UInt64($0) * 1000) })
        let cfg = JournalReaderConfiguration(directory: dir, follow: false, positions: store)
        let first = LineSink()
        try await JournalReader(configuration: cfg, logger: sourceLogger()).run { await first.add($0) }
        #expect(await first.count == 50)
        // More entries arrive, then the older file is vacuumed before the reader comes back.
        await writeJournal(old, (50..<100).map { .message("e\($0)", time: Self.t0 + UInt64($0) * 1000) })
        await writeJournal(dir + "/new.journal", (100..<150).map { .message("e\($0)", time: Self.t0 + UInt64($0) * 1000) })
        unlink(old)
        let reader = JournalReader(configuration: cfg, logger: sourceLogger())
        let second = LineSink()
        try await reader.run { await second.add($0) }
        #expect(await second.texts == (100..<150).map { "e\($0)" })
        #expect(reader.counts.gaps == 1)
    }

    @Test(.needsJournalRemote)
    func progressIsSavedAcrossEntriesTheFilterSkips() async throws {
        let dir = sourceTestDirectory("jskip")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "-pos")
        defer { removeSourceTestDirectory(dir + "-pos") }
        let file = dir + "/j.journal"
        await writeJournal(file, [.message("wanted 1", time: Self.t0, [("SYSLOG_IDENTIFIER", "jicofo")])]
            + (1..<400).map { .message("noise \($0)", time: Self.t0 + UInt64($0), [("SYSLOG_IDENTIFIER", "cron")]) })
        let cfg = JournalReaderConfiguration(directory: dir, identifiers: ["jicofo"], follow: false, positions: store)
        let reader = JournalReader(configuration: cfg, logger: sourceLogger())
        let sink = LineSink()
        try await reader.run { await sink.add($0) }
        #expect(await sink.texts == ["wanted 1"])
        #expect(reader.counts.skipCheckpoints == 1)
        // The saved position is the journal's last entry, not the last matching one.
        #expect(try store.load("journal")?["cursor"] == sourceLastCursor(directory: dir))
        await writeJournal(file, [.message("wanted 2", time: Self.t0 + 1000, [("SYSLOG_IDENTIFIER", "jicofo")]),
                            .message("noise", time: Self.t0 + 1001, [("SYSLOG_IDENTIFIER", "cron")])])
        let again = LineSink()
        try await JournalReader(configuration: cfg, logger: sourceLogger()).run { await again.add($0) }
        #expect(await again.texts == ["wanted 2"])
    }

    @Test(.needsJournalRemote)
    func aNewBootIsNoticed() async throws {
        let dir = sourceTestDirectory("jboot")
        defer { removeSourceTestDirectory(dir) }
        let boot2 = "fedcba9876543210fedcba9876543210"
        await writeJournal(dir + "/j.journal", [.message("a", time: Self.t0), .message("b", time: Self.t0 + 1, boot: boot2)])
        let seen = LockedBox<[String]>([])
        let reader = JournalReader(configuration: .init(directory: dir, follow: false), logger: sourceLogger()) { boot in
            seen.update { $0.append(boot) }
        }
        let sink = LineSink()
        try await reader.run { await sink.add($0) }
        #expect(await sink.lines.map(\.boot) == [sourceTestBoot, boot2])
        #expect(seen.value == [boot2])
        #expect(reader.boot == boot2)
        #expect(reader.counts.bootChanges == 1)
    }

    @Test(.needsJournalRemote)
    func anIdleReaderWaitsOnTheJournalAndWritesNothing() async throws {
        let dir = sourceTestDirectory("jidle")
        defer { removeSourceTestDirectory(dir) }
        let store = try PositionStore(directory: dir + "-pos")
        defer { removeSourceTestDirectory(dir + "-pos") }
        await writeJournal(dir + "/j.journal", [.message("a", time: Self.t0), .message("b", time: Self.t0 + 1, [("SYSLOG_IDENTIFIER", "x")])])
        let reader = JournalReader(configuration: .init(directory: dir, identifiers: ["x"], positions: store), logger: sourceLogger())
        let sink = LineSink()
        let task = Task { try await reader.run { await sink.add($0) } }
        #expect(await sourceEventually { await sink.count == 1 })
        // The line is handed over before its position is saved: wait for the save of "b" itself.
        #expect(await sourceEventually { (try? store.load("journal"))??["time"] == String(Self.t0 + 1) })
        try await Task.sleep(for: .milliseconds(300))
        let saved = try store.load("journal")
        let wakeups = reader.counts.wakeups
        try await Task.sleep(for: .milliseconds(1500))
        #expect(reader.counts.wakeups - wakeups <= 1)
        #expect(try store.load("journal") == saved)
        // And a new entry wakes it: well before the 30 s idle timeout, so the write woke it.
        await writeJournal(dir + "/j.journal", [.message("c", time: Self.t0 + 2, [("SYSLOG_IDENTIFIER", "x")])])
        #expect(await sourceEventually(10) { await sink.count == 2 })
        task.cancel()
        try await task.value
        #expect(await sink.texts == ["b", "c"])
    }

    @Test func cursorPartsAreParsed() {
        let c = JournalCursor("s=f34a09b5c97d4f4d97bc0e9e628cd4ea;i=1f;b=0123456789abcdef0123456789abcdef;m=0;t=60a24181e4000;x=9f1f5cf7128e0f8f")
        #expect(c?.seqnumID == "f34a09b5c97d4f4d97bc0e9e628cd4ea")
        #expect(c?.seqnum == 31)
        #expect(c?.realtime == 0x60a24181e4000)
        #expect(JournalCursor("garbage") == nil)
    }
}
}
