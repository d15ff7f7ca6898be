import SystemCalls
import Logging
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

/// Writes a `host.heartbeat` record on a fixed schedule (DESIGN.md principle 7), so that the
/// aggregator can bill running time and close what was open on a host that went silent.
///
/// Heartbeats are named by their scheduled slot, so one taken twice for a slot is stored once, and
/// slots missed while the agent was down are not invented afterwards.
public struct Heartbeat: Sendable {
    public let host: String
    public let interval: Int64
    public let size: String
    let spool: any RecordSink
    let clock: @Sendable () -> Timestamp

    public init(host: String, interval: Int64, size: String, spool: any RecordSink,
                clock: @escaping @Sendable () -> Timestamp = Heartbeat.now)
    {
        self.host = host
        self.interval = interval
        self.size = size
        self.spool = spool
        self.clock = clock
    }

    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(microseconds: Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1000)
    }

    /// The kernel's id of this boot, as the journal's `_BOOT_ID` writes it (32 hex digits).
    public static func bootID() -> String {
        guard let fd = Optional(open("/proc/sys/kernel/random/boot_id", O_RDONLY)), fd >= 0 else { return "unknown" }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(fd, &buffer, buffer.count)
        guard n > 0 else { return "unknown" }
        return String(decoding: buffer[0..<n], as: UTF8.self).filter { $0.isHexDigit }
    }

    public func record(slot: Timestamp) -> UsageRecord {
        UsageRecord(id: .sample(host: host, kind: .hostHeartbeat, key: "host", scheduled: slot),
                    time: slot, host: host,
                    payload: .hostHeartbeat(HostHeartbeat(boot: Self.bootID(), size: size, interval: interval)))
    }

    /// The slot a time falls in: the last multiple of the interval since the epoch.
    public func slot(containing t: Timestamp) -> Timestamp {
        Self.slot(containing: t, interval: interval)
    }

    /// The slot of `t` for any interval of seconds (heartbeats and storage samples share it).
    public static func slot(containing t: Timestamp, interval: Int64) -> Timestamp {
        let s = t.seconds
        let interval = max(interval, 1)
        return Timestamp(seconds: s - ((s % interval) + interval) % interval)
    }

    public func run() async throws {
        var slot = self.slot(containing: clock())
        while !Task.isCancelled {
            try await spool.append([record(slot: slot)])
            slot = slot.adding(seconds: interval)
            let wait = slot.microseconds(since: clock())
            if wait > 0 { try await Task.sleep(for: .microseconds(wait)) }
            // After a long sleep (suspend, clock step) skip to the current slot; do not backfill.
            let current = self.slot(containing: clock())
            if current > slot { slot = current }
        }
    }
}
