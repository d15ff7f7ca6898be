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

// Helpers for the Journal* tests: journal files written by the real systemd-journal-remote from
// export format, and a private systemd-journald instance in its own namespace.

let journalRemotePath = "/lib/systemd/systemd-journal-remote"
let journaldPath = "/lib/systemd/systemd-journald"
let sourceTestBoot = "0123456789abcdef0123456789abcdef"

/// One journal entry in export format (journal-export-formats(7)).
struct ExportEntry: Sendable {
    var fields: [(String, String)]
    init(_ fields: [(String, String)]) { self.fields = fields }

    static func message(_ text: String, time: UInt64, boot: String = sourceTestBoot, _ extra: [(String, String)] = []) -> ExportEntry {
        ExportEntry([("__REALTIME_TIMESTAMP", String(time)), ("__MONOTONIC_TIMESTAMP", String(time % 1_000_000_000)),
                     ("_BOOT_ID", boot)] + extra + [("MESSAGE", text)])
    }

    var text: String { fields.map { "\($0.0)=\($0.1)\n" }.joined() + "\n" }
}

/// Appends entries to a journal file with systemd-journal-remote (started, fed and waited for,
/// off the cooperative pool).
/// The journal suites run one after another: one of them provokes SIGBUS on purpose, and the
/// reader's guard is process-wide, so another reader must not be mapping journals meanwhile.
@Suite(.serialized) enum JournalSuites {}

func writeJournal(_ file: String, _ entries: [ExportEntry]) async {
    let text = entries.map(\.text).joined()
    let status = try? await offPool { writeJournalBlocking(file, text) }
    #expect(status == 0, "systemd-journal-remote exited with \(String(describing: status))")
}

func writeJournalBlocking(_ file: String, _ text: String) -> Int32 {
    guard let p = popen("\(journalRemotePath) --output='\(file)' --split-mode=none - 2>/dev/null", "w") else { return -1 }
    _ = text.withCString { fputs($0, p) }
    return pclose(p)
}

var journalRemoteAvailable: Bool { access(journalRemotePath, X_OK) == 0 }

/// Tests that need a real component say so, and are skipped with that reason without it.
extension Trait where Self == ConditionTrait {
    static var needsJournalRemote: Self {
        .enabled(if: journalRemoteAvailable, "needs /lib/systemd/systemd-journal-remote (apt-get install systemd-journal-remote)")
    }
    static var needsPrivateJournald: Self {
        .enabled(if: PrivateJournald.available, "needs root, /lib/systemd/systemd-journald and /etc/machine-id to run a private journald namespace")
    }
    static var needsLogrotate: Self {
        .enabled(if: access("/usr/sbin/logrotate", X_OK) == 0, "needs /usr/sbin/logrotate (apt-get install logrotate)")
    }
}

/// The cursor of the last entry of a journal folder, as journalctl sees it.
func sourceLastCursor(directory: String) -> String? {
    guard let p = popen("journalctl -D '\(directory)' -n 1 -o export 2>/dev/null", "r") else { return nil }
    defer { pclose(p) }
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, Int32(line.count), p) != nil {
        let s = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        if s.hasPrefix("__CURSOR=") { return String(s.dropFirst(9).dropLast()) }
    }
    return nil
}

func sourceSpawn(_ argv: [String]) -> pid_t? {
    var pid: pid_t = 0
    var cargs = argv.map { strdup($0) }
    cargs.append(nil)
    defer { for a in cargs { free(a) } }
    let r = posix_spawn(&pid, argv[0], nil, nil, &cargs, environ)
    return r == 0 ? pid : nil
}

/// Stops a process this test started, by its PID, and reaps it.
func sourceStop(_ pid: pid_t) {
    kill(pid, SIGTERM)
    var status: Int32 = 0
    for _ in 0..<100 {
        if waitpid(pid, &status, WNOHANG) == pid { return }
        usleep(20_000)
    }
    kill(pid, SIGKILL)
    waitpid(pid, &status, 0)
}

/// A private systemd-journald in its own namespace (`systemd-journald NAMESPACE`): its own
/// sockets under /run/systemd/journal.NAMESPACE and its own files. Needs root.
final class PrivateJournald: @unchecked Sendable {
    let namespace: String
    let pid: pid_t
    let socketPath: String
    private let sock: Int32

    /// journald needs root for its sockets under /run/systemd and a machine id for its folder.
    static var available: Bool {
        geteuid() == 0 && access(journaldPath, X_OK) == 0 && ((try? PosixFile.readWhole("/etc/machine-id"))??.count ?? 0) >= 32
    }

    init?(namespace: String) {
        self.namespace = namespace
        socketPath = "/run/systemd/journal.\(namespace)/socket"
        guard let pid = sourceSpawn([journaldPath, namespace]) else { return nil }
        self.pid = pid
        sock = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        for _ in 0..<200 where access(socketPath, F_OK) != 0 { usleep(10_000) }
        // Wait until it has created its files.
        for _ in 0..<200 where directory == nil { usleep(10_000) }
    }

    /// The folder of its journal files (/var/log/journal/MACHINE.NS, or /run/log/journal/… ).
    var directory: String? {
        for base in ["/var/log/journal", "/run/log/journal"] {
            guard let names = try? PosixFile.list(base) else { continue }
            if let n = names.first(where: { $0.hasSuffix("." + namespace) }) { return base + "/" + n }
        }
        return nil
    }

    /// Sends one entry over the native protocol (a datagram of FIELD=value lines).
    @discardableResult
    func send(_ fields: [(String, String)]) -> Bool {
        let payload = Array(fields.map { "\($0.0)=\($0.1)\n" }.joined().utf8)
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let p = Array(socketPath.utf8)
            for (i, b) in p.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        for _ in 0..<1000 {
            let n = withUnsafePointer(to: &addr) { ap in
                ap.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    payload.withUnsafeBytes { sendto(sock, $0.baseAddress, $0.count, 0, sa, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            }
            if n >= 0 { return true }
            if errno == EAGAIN || errno == ENOBUFS { usleep(1000); continue }
            return false
        }
        return false
    }

    /// Asks journald to rotate its files (SIGUSR2), as it does when a file is full.
    func rotate() { kill(pid, SIGUSR2) }

    func stop() {
        close(sock)
        sourceStop(pid)
        if let d = directory { _ = system("rm -rf '\(d)'") }
        _ = system("rm -rf '/run/systemd/journal.\(namespace)'")
    }
}

/// Runs `journalctl` with arguments and returns its exit status (waited for).
@discardableResult
func sourceJournalctl(_ args: String) -> Int32 {
    system("journalctl \(args) >/dev/null 2>&1")
}
