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

/// Issue 20, item 1: files rotated several times while the agent is stopped. The follower reads
/// a log, stops; 500 lines are written, the log is rotated (the real logrotate, or logback's
/// renames), 500 more, rotated again, 500 more; the follower starts again. Every line written
/// after the first run must arrive exactly once, under the position it would have had uncompressed.
@Suite(.serialized) struct FileCatchUpTests {
    enum Scheme: String, CaseIterable, Sendable {
        /// logrotate `create` (rename, new file).
        case create
        /// logrotate `copytruncate`.
        case copytruncate
        /// logrotate `compress` + `delaycompress`: the file read when the agent stopped is
        /// `app.log.2.gz` when it comes back.
        case delaycompress
        /// logrotate `compress` without delaycompress, with copytruncate.
        case compressCopytruncate
        /// logrotate `dateext` (`app.log-20261203-1764750000`).
        case dateext
        /// logback's `bbb-web.2026-11-20.log`, followed through a `*.log` glob, the older
        /// one gzipped (logback's `.log.gz`).
        case logback
    }

    struct Figures: CustomStringConvertible {
        var written = 0, read = 0, missing = 0, doubled = 0, history = 0, wrongPosition = 0
        var description: String {
            "written \(written), read \(read), missing \(missing), doubled \(doubled), history read \(history), positions unlike uncompressed \(wrongPosition)"
        }
    }

    static let firstLines = 300, perStep = 500

    /// Runs the scenario with `rotations` rotations while the follower is stopped.
    func scenario(_ scheme: Scheme, rotations: Int) async throws -> Figures {
        let dir = sourceTestDirectory("catchup-\(scheme.rawValue)")
        defer { removeSourceTestDirectory(dir) }
        let live = dir + (scheme == .logback ? "/bbb-web.log" : "/app.log")
        let conf = dir + "/logrotate.conf"
        let mode: String
        switch scheme {
        case .create: mode = "create 0644\n  nocompress"
        case .copytruncate: mode = "copytruncate\n  nocompress"
        case .delaycompress: mode = "create 0644\n  compress\n  delaycompress"
        case .compressCopytruncate: mode = "copytruncate\n  compress"
        case .dateext: mode = "create 0644\n  nocompress\n  dateext\n  dateformat -%Y%m%d-%s"
        case .logback: mode = ""
        }
        sourceAppend(conf, "\(live) {\n  rotate 20\n  missingok\n  \(mode)\n}\n")
        var next = 0
        func write(_ count: Int, tag: String = "line") {
            // Each line unique, so each file's first line (its fingerprint) is too.
            sourceAppend(live, (next..<(next + count)).map { "2026-12-03 10:00:00.\($0) \(tag) \($0) \(String(repeating: "x", count: $0 % 40))\n" }.joined())
            next += count
        }
        var day = 20
        func rotate() async throws {
            if scheme == .logback {
                // logback renames the live file to its dated name and starts a new one.
                let dated = dir + "/bbb-web.2026-11-\(day).log"
                day += 1
                #expect(rename(live, dated) == 0)
                sourceAppend(live, "")
                return
            }
            if scheme == .dateext { try await Task.sleep(for: .milliseconds(1100)) }   // names to the second
            let status = try await offPool { system("/usr/sbin/logrotate -f -s '\(dir)/state' '\(conf)' 2>&1") }
            #expect(status == 0, "logrotate exited with \(status)")
        }

        // History from before the agent ever ran: rotated away, never to be read.
        write(50, tag: "history")
        try await rotate()
        if scheme != .logback && scheme != .dateext { try await rotate() }
        let historyEnd = next

        let store = try PositionStore(directory: dir + "/positions")
        let pattern = scheme == .logback ? dir + "/*.log" : live
        func follower() -> FileFollower {
            FileFollower(configuration: .init(name: "app", patterns: [pattern], follow: false, positions: store,
                                              batchLines: 97),
                         logger: sourceLogger())
        }
        let sink = LineSink()
        write(Self.firstLines)
        try await follower().run { await sink.add($0) }
        #expect(await sink.count == Self.firstLines)

        // The agent is stopped.
        for _ in 0..<rotations {
            write(Self.perStep)
            try await rotate()
        }
        write(Self.perStep)
        if scheme == .logback {
            // logback compresses the older dated files (fileNamePattern ending in .gz).
            for d in 20..<(day - 1) {
                #expect(system("gzip '\(dir)/bbb-web.2026-11-\(d).log'") == 0)
            }
        }
        // What an uncompressed read gives each line: its file's fingerprint and its offset.
        var expected: [String: String] = [:]
        for name in try PosixFile.list(dir) where name.hasPrefix(scheme == .logback ? "bbb-web" : "app.log") {
            let path = dir + "/" + name
            let content: [UInt8]
            if name.hasSuffix(".gz") {
                content = try await offPool { Self.gunzip(path) }
            } else {
                content = try PosixFile.readWhole(path) ?? []
            }
            guard let fp = FileFingerprint.of(prefix: content.prefix(FileFingerprint.maxBytes)) else { continue }
            var offset = 0
            for line in content.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast() {
                expected[String(decoding: line, as: UTF8.self)] = sourcePositionKey(.file(fingerprint: fp.value, offset: UInt64(offset)))
                offset += line.count + 1
            }
        }
        print("\(scheme.rawValue) ×\(rotations): files \(try PosixFile.list(dir).filter { !$0.hasSuffix(".conf") }.sorted())")

        let again = follower()
        try await again.run { await sink.add($0) }
        // And once more: nothing is read twice.
        let third = LineSink()
        try await follower().run { await third.add($0) }
        let thirdCount = await third.count
        #expect(thirdCount == 0, "a third start read \(thirdCount) lines again")

        let lines = await sink.lines
        let writtenTexts = Set(expected.keys.filter { $0.contains(" line ") })
        var f = Figures()
        f.written = next - historyEnd
        f.read = lines.count
        let texts = lines.map(\.text)
        f.history = texts.filter { $0.contains(" history ") }.count
        let readSet = Set(texts)
        f.missing = writtenTexts.subtracting(readSet).count
        f.doubled = texts.count - readSet.count
        f.wrongPosition = lines.filter { expected[$0.text] != sourcePositionKey($0.position) }.count
        #expect(writtenTexts.count == f.written, "lines on disk")
        print("\(scheme.rawValue), \(rotations) rotations while stopped: \(f); caught up on \(again.counts.caughtUpFiles) unseen file(s), finished \(again.counts.recoveredRotated), left \(again.counts.olderRotatedSkipped) older alone")
        return f
    }

    static func gunzip(_ path: String) -> [UInt8] {
        guard let p = popen("gzip -dc '\(path)'", "r") else { return [] }
        defer { pclose(p) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, p)
            if n <= 0 { break }
            out += buf[..<n]
        }
        return out
    }

    func expectExact(_ f: Figures, rotations: Int) {
        #expect(f.written == Self.firstLines + (rotations + 1) * Self.perStep)
        #expect(f.missing == 0)
        #expect(f.doubled == 0)
        #expect(f.read == f.written)
        #expect(f.history == 0)
        #expect(f.wrongPosition == 0)
    }

    @Test(.needsLogrotate, arguments: Scheme.allCases)
    func twoRotationsWhileStoppedLoseAndDoubleNothing(scheme: Scheme) async throws {
        let f = try await scenario(scheme, rotations: 2)
        expectExact(f, rotations: 2)
    }

    @Test(.needsLogrotate, arguments: [Scheme.create, .copytruncate, .delaycompress])
    func threeRotationsWhileStoppedLoseAndDoubleNothing(scheme: Scheme) async throws {
        let f = try await scenario(scheme, rotations: 3)
        expectExact(f, rotations: 3)
    }
}
