import CSystemd

#if canImport(Glibc)
import Glibc
#endif

/// Tells systemd how the daemon is doing (sd_notify(3)): ready, reloading, stopping, alive.
/// Does nothing when the daemon does not run under a `Type=notify` unit.
public struct SystemdNotifier: Sendable {
    public init() {}

    /// True when systemd listens (NOTIFY_SOCKET is set).
    public var isActive: Bool { getenv("NOTIFY_SOCKET") != nil }

    @discardableResult
    public func notify(_ state: String) -> Bool { sd_notify(0, state) > 0 }

    public func ready(status: String? = nil) {
        notify("READY=1" + (status.map { "\nSTATUS=" + $0 } ?? ""))
    }

    public func stopping() { notify("STOPPING=1") }

    public func reloading() {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        let usec = UInt64(ts.tv_sec) * 1_000_000 + UInt64(ts.tv_nsec) / 1000
        notify("RELOADING=1\nMONOTONIC_USEC=\(usec)")
    }

    public func status(_ text: String) { notify("STATUS=" + text) }

    public func watchdog() { notify("WATCHDOG=1") }

    /// Half the unit's WatchdogSec, the interval to ping at; nil when the watchdog is off.
    public var watchdogInterval: Duration? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return .microseconds(Int64(usec / 2))
    }
}
