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

/// The journal reader against a real systemd-journald (a private instance in its own namespace)
/// that rotates and vacuums files while the reader has them mapped. Needs root.
extension JournalSuites {
@Suite(.serialized) struct JournalJournaldTests {
    static func countEntries(_ dir: String, identifier: String) -> Int {
        guard let p = popen("journalctl -D '\(dir)' -t '\(identifier)' -o cat 2>/dev/null | wc -l", "r") else { return -1 }
        defer { pclose(p) }
        var buf = [CChar](repeating: 0, count: 64)
        guard fgets(&buf, 64, p) != nil else { return -1 }
        return Int(buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.trimmingWhitespace()) ?? -1
    }

    @Test(.needsPrivateJournald)
    func everyEntryArrivesOnceWhileJournaldRotatesAndVacuumsUnderLoad() async throws {
        let ns = "meetmeter-test-\(getpid())-load"
        let journald = try #require(try await offPool { PrivateJournald(namespace: ns) })
        defer { journald.stop() }
        let dir = try #require(journald.directory)
        let positions = sourceTestDirectory("jd-load-pos")
        defer { removeSourceTestDirectory(positions) }
        let store = try PositionStore(directory: positions)
        let sink = LineSink()
        func reader() -> JournalReader {
            JournalReader(configuration: .init(directory: dir, identifiers: ["mm-load"], positions: store, batchLines: 128),
                          logger: sourceLogger())
        }
        let total = 3000, perRound = 500
        var sent = 0
        var vacuums = 0
        for round in 0..<(total / perRound) {
            let r = reader()
            let task = Task { try await r.run { await sink.add($0) } }
            let first = sent
            try await offPool {
                for i in first..<(first + perRound) {
                    journald.send([("MESSAGE", "load \(i) " + String(repeating: "x", count: 200)), ("SYSLOG_IDENTIFIER", "mm-load")])
                }
            }
            sent += perRound
            let target = sent
            let reached = await sourceEventually(20) { await Set(sink.lines.map { sourcePositionKey($0.position) }).count == target }
            let have = await sink.count
            #expect(reached, "round \(round): \(have) of \(target)")
            // Rotate, and vacuum every archived file (the reader has them mapped).
            let archived: @Sendable () -> Int = { ((try? PosixFile.list(dir)) ?? []).filter { $0.contains("@") }.count }
            let archivedPrior = archived()
            journald.rotate()
            // journald rotates on its own time after the signal: wait for the new archived file.
            _ = await sourceEventually(10) { archived() > archivedPrior }
            let archivedBefore = archived()
            let vacuumed = try await offPool { sourceJournalctl("-D '\(dir)' --vacuum-files=1") }
            #expect(vacuumed == 0)
            let archivedAfter = try PosixFile.list(dir).filter { $0.contains("@") }.count
            if archivedAfter < archivedBefore { vacuums += 1 }
            if round % 2 == 1 {
                task.cancel()
                try await task.value
            } else {
                // Keep reading across the rotation, then stop.
                journald.send([("MESSAGE", "marker \(round)"), ("SYSLOG_IDENTIFIER", "mm-load-marker")])
                try await Task.sleep(for: .milliseconds(200))
                task.cancel()
                try await task.value
            }
            #expect(r.counts.gaps == 0)
        }
        let lines = await sink.lines
        let texts = Set(lines.map { $0.text.split(separator: " ").prefix(2).joined(separator: " ") })
        #expect(texts == Set((0..<total).map { "load \($0)" }))
        #expect(Set(lines.map { sourcePositionKey($0.position) }).count == total)
        #expect(lines.allSatisfy { $0.origin == "mm-load" && $0.time != nil && $0.boot?.count == 32 })
        #expect(vacuums >= total / perRound - 1, "journalctl --vacuum-files removed archived files \(vacuums) times")
    }

    @Test(.needsPrivateJournald)
    func aVacuumedCursorCountsTheLostEntriesBySequenceNumber() async throws {
        let ns = "meetmeter-test-\(getpid())-gap"
        let journald = try #require(try await offPool { PrivateJournald(namespace: ns) })
        defer { journald.stop() }
        let dir = try #require(journald.directory)
        let positions = sourceTestDirectory("jd-gap-pos")
        defer { removeSourceTestDirectory(positions) }
        let store = try PositionStore(directory: positions)
        let cfg = JournalReaderConfiguration(directory: dir, identifiers: ["mm-gap"], follow: false, positions: store)
        func send(_ range: Range<Int>) async throws {
            try await offPool { for i in range { journald.send([("MESSAGE", "gap \(i)"), ("SYSLOG_IDENTIFIER", "mm-gap")]) } }
            let want = range.upperBound
            _ = await sourceEventually(10) { ((try? await offPool { Self.countEntries(dir, identifier: "mm-gap") }) ?? 0) >= want }
        }
        try await send(0..<100)
        let first = LineSink()
        try await JournalReader(configuration: cfg, logger: sourceLogger()).run { await first.add($0) }
        #expect(await first.count == 100)
        try await send(100..<200)       // never read: vacuumed below
        journald.rotate()
        _ = await sourceEventually(5) { ((try? PosixFile.list(dir)) ?? []).count >= 2 }
        try await Task.sleep(for: .milliseconds(200))
        try await send(200..<300)
        let vacuumed = try await offPool { sourceJournalctl("-D '\(dir)' --vacuum-files=1") }
        #expect(vacuumed == 0)
        let reader = JournalReader(configuration: cfg, logger: sourceLogger())
        let second = LineSink()
        try await reader.run { await second.add($0) }
        #expect(await second.texts == (200..<300).map { "gap \($0)" })
        #expect(reader.counts.gaps == 1)
        // The 100 unread entries (and journald's own lines between them) are counted as lost.
        #expect(reader.counts.lostEntries >= 100)
    }
}
}
