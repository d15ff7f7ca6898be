import Foundation

/// A PostgreSQL server of the test's own: a cluster made by `initdb` in a temporary folder and
/// started by `pg_ctl` on a free loopback port (as the `postgres` user when run as root, since
/// the server refuses to run as root), stopped by its PID afterwards. The tests' (TestPostgres
/// gives it to a suite) and the benchmark's.
///
/// Logins over TCP need a password (scram-sha-256), so the stores under test read theirs from a
/// password file as an operator's would; the Unix socket in the data folder trusts, for psql.
///
/// The tests' server does not flush to disk (`fsync = off`, `durable: false`): on a machine whose
/// disk the other suites keep busy with their own flushes (journald, SQLite, spools), each of its
/// commits waited seconds, and a migration overran the store's 15-second bound (CI, 2026-12-05).
/// What the tests crash is the server, never the machine: the WAL a killed server wrote is in the
/// kernel's page cache and recovery reads it, so nothing they check depends on the flush. The
/// benchmark's server flushes, as an operator's does, so that its figures are a real commit's.
public final class PostgresServer: Sendable {
    public let dataDirectory: String
    public let port: Int
    public let user = "meetmeter"
    public let password = "test-password-\(UInt32.random(in: 1...UInt32.max))"
    /// A file holding `password`, readable by the tests.
    public let passwordFile: String
    let binaries: String
    let runAs: String?
    let fsync: String

    /// The folder of the newest PostgreSQL's programs, or nil when the server is not installed.
    public static let binaryFolder: String? = {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap(Int.init).sorted()
        for v in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(v)/bin/pg_ctl") {
            return "\(root)/\(v)/bin"
        }
        return nil
    }()

    public static var available: Bool { binaryFolder != nil && (geteuid() != 0 || getpwnam("postgres") != nil) }
    public static let unavailableText = "needs PostgreSQL's server: apt-get install postgresql (scripts/install-deps.sh --test does)"

    public init(durable: Bool = false) throws {
        guard let binaries = Self.binaryFolder else { throw Failure("PostgreSQL's server is not installed") }
        self.binaries = binaries
        fsync = durable ? "on" : "off"
        runAs = geteuid() == 0 ? "postgres" : nil
        let base = NSTemporaryDirectory() + "meetmeter-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        dataDirectory = base + "/data"
        passwordFile = base + "/password"
        try (password + "\n").write(toFile: passwordFile, atomically: true, encoding: .utf8)
        if let runAs, let pw = getpwnam(runAs) {
            chown(base, pw.pointee.pw_uid, pw.pointee.pw_gid)
            chown(passwordFile, pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        try Self.run(binaries + "/initdb", ["-D", dataDirectory, "-U", user, "-E", "UTF8", "--locale=C.UTF-8",
                                            "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=" + passwordFile, "-N"],
                     as: runAs)
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = Self.freePort()
            do {
                try Self.run(binaries + "/pg_ctl", [
                    "-D", dataDirectory, "-l", base + "/server.log", "-w", "-t", "60",
                    "-o", "-p \(port) -k \(base) -c listen_addresses=127.0.0.1 -c fsync=\(fsync) -c max_connections=200",
                    "start",
                ], as: runAs)
                self.port = port
                return
            } catch {
                lastError = error
            }
        }
        throw lastError ?? Failure("pg_ctl start failed")
    }

    /// The socket folder (for psql) is the data folder's parent.
    public var socketDirectory: String { (dataDirectory as NSString).deletingLastPathComponent }

    /// The server's PID, from postmaster.pid.
    public var pid: Int32? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first else { return nil }
        return Int32(first)
    }

    /// The URL of a database on this server, as aggregator.toml's `[store] url` takes it.
    public func url(_ database: String) -> String { "postgresql://\(user)@127.0.0.1:\(port)/\(database)?sslmode=disable" }

    /// Makes a fresh database and answers its URL.
    public func createDatabase(_ name: String = "t_\(UUID().uuidString.prefix(8).lowercased())") throws -> String {
        try psql("postgres", "CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0")
        return url(name)
    }

    /// Runs SQL through psql over the trusted socket and answers what it printed (unaligned, no headers).
    @discardableResult
    public func psql(_ database: String, _ sql: String) throws -> String {
        try Self.run(binaries + "/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", socketDirectory,
                                          "-p", "\(port)", "-U", user, "-d", database, "-c", sql], as: nil)
    }

    /// Stops the server (`pg_ctl stop -m immediate` when `crash`: it ends at once, as a killed server would, and recovers from its WAL when started), and waits until its PID is gone.
    public func stopServer(crash: Bool = false) throws {
        let pid = self.pid
        try? Self.run(binaries + "/pg_ctl", ["-D", dataDirectory, "-m", crash ? "immediate" : "fast", "-w", "stop"], as: runAs)
        if let pid { Self.waitGone(pid) }
    }

    /// Starts it again on the same port.
    public func startServer() throws {
        do {
            try start()
        } catch {
            let log = (try? String(contentsOfFile: socketDirectory + "/server.log", encoding: .utf8)) ?? ""
            throw Failure("\(error)\nserver.log:\n\(log.split(separator: "\n").suffix(10).joined(separator: "\n"))")
        }
    }

    private func start() throws {
        try Self.run(binaries + "/pg_ctl", [
            "-D", dataDirectory, "-l", socketDirectory + "/server.log", "-w", "-t", "60",
            "-o", "-p \(port) -k \(socketDirectory) -c listen_addresses=127.0.0.1 -c fsync=\(fsync) -c max_connections=200",
            "start",
        ], as: runAs)
    }

    /// Stops the server by its PID whatever happens, and removes the cluster.
    public func remove() {
        if let pid {
            try? stopServer()
            if kill(pid, 0) == 0 {
                kill(pid, SIGKILL)
                Self.waitGone(pid)
            }
        }
        try? FileManager.default.removeItem(atPath: socketDirectory)
    }

    static func waitGone(_ pid: Int32) {
        for _ in 0..<600 where kill(pid, 0) == 0 { usleep(50_000) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    /// Runs a program (as `user` through runuser when given) and answers what it printed.
    ///
    /// Spawned and reaped here rather than through Foundation's `Process`: `pg_ctl start` leaves
    /// a server running that inherits the descriptors of its parent, and `Process` then never
    /// sees its child end (the runuser stays a zombie and `waitUntilExit` waits forever). The
    /// child gets only the three standard descriptors.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], as user: String?) throws -> String {
        let command = (user.map { ["/usr/sbin/runuser", "-u", $0, "--"] } ?? []) + [program] + arguments
        // In /tmp, which the postgres user may enter; output into a file, never a pipe that a
        // server started meanwhile could hold open.
        let argv = ["/bin/sh", "-c", "cd /tmp && exec \"$@\"", "sh"] + command
        let outputPath = NSTemporaryDirectory() + "meetmeter-pg-run-\(UUID().uuidString.prefix(8))"
        defer { unlink(outputPath) }
        // Nothing else of this process: other tests' sockets, inherited, would count against
        // the server's descriptors ("insufficient file descriptors available").
        let child: SpawnedProcess
        do {
            child = try SpawnedProcess("/bin/sh", Array(argv.dropFirst()), environment: nil,
                                       standardOutput: .file(outputPath), standardError: .file(outputPath))
        } catch {
            throw Failure("cannot start \(program): \(error)")
        }
        let status = child.waitUntilExit()
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exited = (status & 0x7f) == 0
        let code = (status >> 8) & 0xff
        guard exited && code == 0 else {
            let how = exited ? "exited \(code)" : "was killed by signal \(status & 0x7f)"
            throw Failure("\((program as NSString).lastPathComponent) \(arguments.joined(separator: " ")) \(how): \(text)")
        }
        return text
    }

    /// A port that is free now, below the kernel's ephemeral range: a restarted server must get
    /// its port back, and outgoing connections and port-0 listeners of other tests running
    /// meanwhile take theirs from the ephemeral range only.
    static func freePort() -> Int {
        for _ in 0..<200 {
            let port = Int.random(in: 20_000..<32_000)
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            close(fd)
            if bound == 0 { return port }
        }
        return 0
    }
}

