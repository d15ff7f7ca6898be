import Aggregation
import Foundation
import Observability
import Testing
import TestThreads

/// Issue 20, item 4: 1,100 connections that never say hello, against the real aggregator held
/// to 1,024 descriptors (`ulimit -n 1024`, what a unit without LimitNOFILE gets). On the landed
/// code it spun a core at accept's EMFILE, logged nothing, and an agent waited 28 s. Now idle
/// peers make room for newer connections, miss a 10 s hello deadline, are counted and logged,
/// accept backs off when descriptors run out, and agents get in at once.
@Suite(.serialized) struct IdleFloodTests {
    /// Defaults only (no [connections] table): the limits on connections without a hello bite
    /// long before the descriptors run out.
    @Test func idleConnectionsCannotKeepAnAgentOut() async throws {
        let users = 100
        let setup = try DeliveryFaultTests.Setup(name: "idle-flood", users: users)
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        let metricsPort = try freePort()
        try writeAggregatorConfig(setup, metricsPort: metricsPort, connections: "")
        let aggregator = try startLimited(setup)
        defer { aggregator.stop() }
        try await aggregator.waitForLog("listening")

        // 100 from one address (its limit is 16), then 10 from each of 100 more (under it).
        var sources = Array(repeating: "127.0.0.2", count: 100)
        for a in 0..<100 { sources += Array(repeating: "127.0.1.\(a)", count: 10) }
        let addresses = sources
        let flood = try await onOwnThread { try Flood(port: setup.port, sources: addresses) }
        defer { flood.closeAll() }
        #expect(flood.opened == 1100, "every connection was made")

        // All accepted and sorted: 84 closed for their address, 760 to keep 256 waiting.
        let settled = ContinuousClock.now + .seconds(60)
        var samples: [String: Double] = [:]
        repeat {
            samples = scrape(metricsPort)
            if refused(samples, "address-limit") + refused(samples, "unauthenticated-limit") >= 844 { break }
            try await Task.sleep(for: .milliseconds(100))
        } while ContinuousClock.now < settled
        #expect(refused(samples, "address-limit") == 84, "\(samples)")
        #expect(refused(samples, "unauthenticated-limit") >= 760, "\(samples)")

        let cpu = try await cpuShare(of: aggregator.pid, over: .seconds(5))
        print("idle flood: the aggregator used \(percent(cpu)) of a core over 5 s with 1,100 idle connections made")
        #expect(cpu < 0.5, "not spinning: \(percent(cpu)) of a core")

        // A client speaking the protocol gets in and has its record acknowledged.
        let entry = try await onOwnThread { try ProtocolClient.storeOne(port: setup.port, id: "bbb-fault:flood:1") }
        print("idle flood: a client with a valid hello had its record stored \(String(format: "%.2f", entry.seconds)) s after connecting (\(entry.attempts) connection(s))")
        #expect(entry.reply.contains(#""status":"stored""#), "\(entry.reply)")
        #expect(entry.seconds < 30, "got in within a few seconds (bound generously)")

        // The real agent delivers its whole log.
        let started = ContinuousClock.now
        try await setup.drainAgent()
        print("idle flood: the agent's --drain of \(2 * users + 2) records took \(ContinuousClock.now - started)")
        let ids = try await setup.storedIDs().filter { $0 != "bbb-fault:flood:1" }
        #expect(ids.count == 2 * users + 2, "every record once")
        #expect(Set(ids).count == ids.count, "no id twice")

        // The idle ones are all closed, each with a line saying why: those that made room with
        // `busy`, the 256 left waiting with `timeout` after the hello deadline.
        let outcomes = try await onOwnThread { flood.waitForAllClosed(timeout: 60) }
        print("idle flood: the 1,100 idle connections were closed so: \(outcomes)")
        let busy = outcomes["busy", default: 0]
        let timeout = outcomes["timeout", default: 0]
        #expect(busy + timeout == 1100, "every idle connection was closed with a fatal line: \(outcomes)")
        // 844, and one more for each connection (client, agent) that came while 256 waited.
        #expect((844...847).contains(busy), "\(outcomes)")

        samples = scrape(metricsPort)
        #expect(refused(samples, "address-limit") + refused(samples, "unauthenticated-limit") == busy, "\(samples)")
        #expect(refused(samples, "hello-timeout") == timeout, "\(samples)")
        #expect(samples["meetmeter_aggregator_connections_unauthenticated"] == 0, "\(samples)")

        let log = aggregator.log
        #expect(log.contains("descriptor limit (RLIMIT_NOFILE)"), "\(log)")
        #expect(log.contains("connection limit reached: closed the oldest connection without a hello from one address"), "\(log)")
        #expect(log.contains("connection limit reached: closed the oldest connection without a hello"), "\(log)")
        #expect(log.contains("closed connections that sent no hello in time"), "\(log)")
        // Said once a minute at most, not once a connection.
        let lines = log.split(separator: "\n").filter { $0.contains("connection limit reached") }.count
        #expect(lines <= 4, "\(lines) lines about limits")
    }

    /// Limits set above what 1,024 descriptors allow: accept fails with EMFILE. It must back off
    /// (not spin), say so, count it, and let the agent in once the hello deadline frees descriptors.
    @Test func outOfDescriptorsAcceptBacksOffInsteadOfSpinning() async throws {
        let setup = try DeliveryFaultTests.Setup(name: "emfile-flood", users: 10)
        defer { try? FileManager.default.removeItem(atPath: setup.dir) }
        let metricsPort = try freePort()
        try writeAggregatorConfig(setup, metricsPort: metricsPort, connections: """
            [connections]
            hello_timeout = 10
            max_connections = 5000
            max_unauthenticated = 4000
            max_unauthenticated_per_address = 4000
            """)
        let aggregator = try startLimited(setup)
        defer { aggregator.stop() }
        try await aggregator.waitForLog("listening")

        var sources: [String] = []
        for a in 0..<100 { sources += Array(repeating: "127.0.2.\(a)", count: 11) }
        let addresses = sources
        let flood = try await onOwnThread { try Flood(port: setup.port, sources: addresses) }
        defer { flood.closeAll() }
        #expect(flood.opened == 1100, "every connection was made (the rest wait in the backlog)")
        try await aggregator.waitForLog("out of descriptors", timeout: .seconds(60))

        let cpu = try await cpuShare(of: aggregator.pid, over: .seconds(5))
        print("out of descriptors: the aggregator used \(percent(cpu)) of a core over 5 s at EMFILE")
        #expect(cpu < 0.5, "backing off, not spinning: \(percent(cpu)) of a core")

        let entry = try await onOwnThread { try ProtocolClient.storeOne(port: setup.port, id: "bbb-fault:emfile:1") }
        print("out of descriptors: a client with a valid hello had its record stored \(String(format: "%.2f", entry.seconds)) s after connecting (\(entry.attempts) connection(s))")
        #expect(entry.reply.contains(#""status":"stored""#), "\(entry.reply)")
        #expect(entry.seconds < 60, "got in once the deadline freed descriptors (bound generously)")

        let outcomes = try await onOwnThread { flood.waitForAllClosed(timeout: 90) }
        print("out of descriptors: the 1,100 idle connections were closed so: \(outcomes)")
        #expect(outcomes["timeout", default: 0] == 1100, "each closed after its hello deadline, saying so: \(outcomes)")

        let samples = scrape(metricsPort)
        #expect(refused(samples, "descriptors") >= 1, "\(samples)")
        #expect(refused(samples, "hello-timeout") == 1100, "\(samples)")
        let lines = aggregator.log.split(separator: "\n").filter { $0.contains("out of descriptors") }.count
        #expect(lines <= 3, "said once a minute at most: \(lines) lines")
    }

    // MARK: Helpers

    func writeAggregatorConfig(_ setup: DeliveryFaultTests.Setup, metricsPort: Int, connections: String) throws {
        try """
            [listen]
            address = "127.0.0.1:\(setup.port)"
            [store]
            path = "\(setup.database)"
            [metrics]
            address = "127.0.0.1:\(metricsPort)"
            [[agents]]
            host = "bbb-fault"
            token = "fault-test-token-0123456789"
            \(connections)
            """.write(toFile: setup.aggregatorConfig, atomically: true, encoding: .utf8)
    }

    /// The real aggregator with 1,024 descriptors, soft and hard; exec keeps the PID.
    func startLimited(_ setup: DeliveryFaultTests.Setup) throws -> Child {
        try Child("/bin/sh", ["-c", #"ulimit -n 1024 && exec "$0" "$@""#, Paths.binary("meetmeter-aggregator"), "--config", setup.aggregatorConfig],
                  logTo: setup.dir + "/aggregator.log")
    }

    func scrape(_ port: Int) -> [String: Double] {
        guard let r = try? HTTPGet.fetch(host: "127.0.0.1", port: port, path: "/metrics") else { return [:] }
        return HTTPGet.samples(r.body)
    }

    func refused(_ samples: [String: Double], _ reason: String) -> Int {
        Int(samples[#"meetmeter_aggregator_connections_refused_total{reason="\#(reason)"}"#] ?? 0)
    }

    func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }

    /// The share of one core `pid` used over `window` (utime + stime of /proc/PID/stat).
    func cpuShare(of pid: Int32, over window: Duration) async throws -> Double {
        func ticks() throws -> Double {
            let stat = try String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            guard let close = stat.lastIndex(of: ")") else { throw HarnessError("cannot read /proc/\(pid)/stat") }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // After the name: state is field 3, utime 14, stime 15.
            guard fields.count > 12, let u = Double(fields[11]), let s = Double(fields[12]) else { throw HarnessError("odd /proc/\(pid)/stat: \(stat)") }
            return u + s
        }
        let hz = Double(sysconf(Int32(_SC_CLK_TCK)))
        let t0 = ContinuousClock.now
        let c0 = try ticks()
        try await Task.sleep(for: window)
        let c1 = try ticks()
        let elapsed = ContinuousClock.now - t0
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (c1 - c0) / hz / seconds
    }
}

/// Idle TCP connections from chosen loopback source addresses (all of 127/8 is local on Linux).
final class Flood: @unchecked Sendable {
    private(set) var fds: [Int32] = []
    var opened: Int { fds.count }

    init(port: Int, sources: [String]) throws {
        // The test holds more than the usual 1,024 descriptors: raise its own soft limit.
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let needed = rlim_t(sources.count + 512)
        if limit.rlim_cur < needed {
            limit.rlim_cur = min(limit.rlim_max, needed)
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        for source in sources {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno))) after \(fds.count)") }
            var tv = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var from = sockaddr_in()
            from.sin_family = sa_family_t(AF_INET)
            from.sin_addr.s_addr = inet_addr(source)
            var to = sockaddr_in()
            to.sin_family = sa_family_t(AF_INET)
            to.sin_port = in_port_t(UInt16(port).bigEndian)
            to.sin_addr.s_addr = inet_addr("127.0.0.1")
            let size = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafePointer(to: &from) { f in
                withUnsafePointer(to: &to) { t in
                    f.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) == 0 }
                        && t.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, size) == 0 }
                }
            }
            guard ok else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw HarnessError("cannot connect from \(source) after \(fds.count) connections: \(reason)")
            }
            fds.append(fd)
        }
    }

    /// Reads every connection until the aggregator closes it (or `timeout` seconds pass) and
    /// counts them by the fatal code they were sent: "busy", "timeout", "none", or "open".
    func waitForAllClosed(timeout: Double) -> [String: Int] {
        var received = [[UInt8]](repeating: [], count: fds.count)
        var closed = [Bool](repeating: false, count: fds.count)
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while closed.contains(false), Date() < deadline {
            var polls = fds.enumerated().filter { !closed[$0.offset] }.map { pollfd(fd: $0.element, events: Int16(POLLIN), revents: 0) }
            let indices = fds.indices.filter { !closed[$0] }
            guard poll(&polls, nfds_t(polls.count), 500) >= 0 else { continue }
            for (p, i) in zip(polls, indices) where p.revents != 0 {
                let n = buffer.withUnsafeMutableBytes { recv(fds[i], $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0 { received[i] += buffer[0..<n] } else if n == 0 || (errno != EAGAIN && errno != EINTR) { closed[i] = true }
            }
        }
        var counts: [String: Int] = [:]
        for i in fds.indices {
            let text = String(decoding: received[i], as: UTF8.self)
            let code: String
            if !closed[i] { code = "open" } else if text.contains(#""fatal":"busy""#) { code = "busy" } else if text.contains(#""fatal":"timeout""#) { code = "timeout" } else { code = "none" }
            counts[code, default: 0] += 1
        }
        return counts
    }

    func closeAll() {
        for fd in fds { close(fd) }
        fds = []
    }
}

/// What an agent does, by hand: hello with its token, one record, its acknowledgement; again
/// after a refusal, as an agent retries.
enum ProtocolClient {
    static func storeOne(port: Int, id: String, within limit: Double = 60) throws -> (seconds: Double, attempts: Int, reply: String) {
        let started = Date()
        let hello = #"{"hello":"meetmeter","version":1,"host":"bbb-fault","token":"fault-test-token-0123456789"}"#
        let record = #"{"id":"\#(id)","kind":"meeting.ended","time":"2026-11-22T10:15:00Z","host":"bbb-fault","meeting":"m1"}"#
        var attempts = 0
        var reply = ""
        while Date().timeIntervalSince(started) < limit {
            attempts += 1
            reply = (try? exchange(port, hello + "\n" + record + "\n")) ?? ""
            if reply.contains(#""line":1"#) { break }
            usleep(200_000)
        }
        return (Date().timeIntervalSince(started), attempts, reply)
    }

    /// Sends `text` and reads until the acknowledgement of line 1 or the end.
    static func exchange(_ port: Int, _ text: String) throws -> String {
        let fd = try connectLoopback(port: port, receiveTimeout: 60)
        defer { close(fd) }
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !String(decoding: out, as: UTF8.self).contains(#""line":1"#) {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
