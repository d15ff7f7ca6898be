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

/// The real logrotate, in both modes, while a writer keeps appending and the follower is stopped,
/// restarted and "crashes" (its last position saves are lost) several times.
@Suite(.serialized) struct FileRotationTests {
    enum Mode: String, CaseIterable, Sendable { case create, copytruncate }


    @Test(.needsLogrotate, arguments: Mode.allCases)
    func linesSurviveRotationsRestartsAndACrash(mode: Mode) async throws {
        let dir = sourceTestDirectory("rotate-\(mode.rawValue)")
        defer { removeSourceTestDirectory(dir) }
        let log = dir + "/app.log"
        let conf = dir + "/logrotate.conf"
        sourceAppend(conf, """
            \(log) {
              rotate 50
              \(mode == .create ? "create 0644" : "copytruncate")
              missingok
              nocompress
            }

            """)
        sourceAppend(log, "")
        let total = 6000
        let writer = Task.detached { () -> Int in
            try await Self.write(total, to: log, holdOpen: mode == .copytruncate)
        }
        let store = try PositionStore(directory: dir + "/positions")
        let sink = LineSink()
        func follower() -> FileFollower {
            FileFollower(configuration: .init(name: "app", patterns: [log], positions: store,
                                              batchLines: 97, rotatedGrace: .milliseconds(300)),
                         logger: sourceLogger())
        }
        var rotations = 0
        var recovered = 0
        func rotate() async throws {
            let status = try await offPool { system("/usr/sbin/logrotate -f -s '\(dir)/state' '\(conf)'") }
            #expect(status == 0, "logrotate exited with \(status)")
            rotations += 1
        }
        for round in 0..<5 {
            let f = follower()
            let task = Task { try await f.run { await sink.add($0) } }
            try await Task.sleep(for: .milliseconds(250))
            try await rotate()   // while running
            try await Task.sleep(for: .milliseconds(250))
            if round == 2 {
                // A crash: the positions saved from now on are lost, as if the agent died right
                // after delivering, before it saved.
                let snapshot = try PosixFile.readWhole(store.path(for: "app"))
                try await Task.sleep(for: .milliseconds(300))
                task.cancel()
                try await task.value
                if let snapshot { try PosixFile.replaceAtomically(store.path(for: "app"), with: snapshot) }
            } else {
                task.cancel()
                try await task.value
            }
            recovered += f.counts.recoveredRotated
            try await rotate()   // while stopped: the next run finishes the rotated file from its saved offset
        }
        let written = try await writer.value
        #expect(written == total)
        // Everything that is on disk now, in every rotated file.
        var onDisk = Set<String>()
        for name in try PosixFile.list(dir) where name.hasPrefix("app.log") {
            onDisk.formUnion(sourceLinesOnDisk(dir + "/" + name))
        }
        let last = follower()
        let expected = onDisk
        try await runSource(last, sink: sink, seconds: 20) {
            Set(await sink.texts).isSuperset(of: expected)
        }
        let lines = await sink.lines
        let distinctPositions = Set(lines.map { sourcePositionKey($0.position) })
        let distinctTexts = Set(lines.map(\.text))
        // Each line was read under exactly one position (re-reads after the crash repeat the same
        // position; nothing is read twice under two identities).
        var textByPosition: [String: String] = [:]
        for l in lines {
            let k = sourcePositionKey(l.position)
            if let t = textByPosition[k] { #expect(t == l.text, "one position, two texts") }
            textByPosition[k] = l.text
        }
        #expect(distinctPositions.count == distinctTexts.count)
        #expect(distinctTexts.isSuperset(of: onDisk))
        #expect(distinctTexts.allSatisfy { $0.hasPrefix("line ") })
        #expect(rotations == 10)
        recovered += last.counts.recoveredRotated
        // Files rotated while the follower was stopped were found by fingerprint and finished.
        #expect(recovered >= 1, "finished \(recovered) files rotated while stopped")
        if mode == .create {
            // Rename-and-create loses nothing: every line written arrives, once per position.
            #expect(onDisk.count == total)
            #expect(distinctPositions.count == total)
        } else {
            // copytruncate itself loses what is written between its copy and its truncation;
            // everything that survived on disk arrived, and nothing arrived twice.
            #expect(distinctPositions.count >= onDisk.count)
            #expect(distinctPositions.count <= total)
            print("copytruncate: written \(total), on disk \(onDisk.count), delivered \(distinctPositions.count) distinct, \(lines.count) with re-reads after the crash")
        }
    }

    /// Writes `count` lines at about 1,500 a second. `holdOpen`: one descriptor for the whole run
    /// (what copytruncate is for); otherwise open, append, close for each line, as a logger that
    /// reopens its file does (rename-and-create).
    static func write(_ count: Int, to path: String, holdOpen: Bool) async throws -> Int {
        var fd: Int32 = holdOpen ? open(path, O_WRONLY | O_APPEND | O_CLOEXEC) : -1
        defer { if fd >= 0 { close(fd) } }
        for i in 0..<count {
            let line = Array("line \(i) \(String(repeating: "p", count: i % 50))\n".utf8)
            if !holdOpen {
                // No O_CREAT: between logrotate's rename and its create, wait for the new file.
                while true {
                    fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
                    if fd >= 0 { break }
                    try await Task.sleep(for: .milliseconds(1))
                }
            }
            let n = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            precondition(n == line.count)
            if !holdOpen { close(fd); fd = -1 }
            if i % 15 == 14 { try await Task.sleep(for: .milliseconds(10)) }
        }
        return count
    }
}
