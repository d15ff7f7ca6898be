#if canImport(Glibc)
import Glibc
#endif

import LogLines
import SystemCalls
import UsageRecords
import CSystemShim
import Synchronization

/// Survives SIGBUS from journal files that journald truncates or vacuums while they are mapped
/// (systemd#24320, fixed only in systemd 255; Debian 12 ships 252). Like systemd's own
/// src/basic/sigbus.c, the handler maps a zero page over the faulting address so the read that
/// faulted goes on (and sees zeros), and counts the fault; the journal reader sees the count
/// change, throws away what it read since, re-opens the journal and resumes from its position.
///
/// The handler is Swift; sigaction and siginfo_t's address go through the C shim (glibc spells
/// them through unions). It touches only a lock-free atomic and mmap(2), which is
/// async-signal-safe, and allocates nothing.
public enum SigbusGuard {
    /// Faults caught since the process started.
    public static var faults: Int { sigbusFaults.load(ordering: .acquiring) }

    /// Installs the handler once for the process. Safe to call many times.
    public static func install() {
        installOnce.withLock { installed in
            guard !installed else { return }
            installed = true
            // Touch both globals now, so the handler never runs their lazy initialisation.
            sigbusPageSize.store(Int(sysconf(Int32(_SC_PAGESIZE))), ordering: .releasing)
            _ = sigbusFaults.load(ordering: .acquiring)
            if meetmeter_install_siginfo_handler(SIGBUS, sigbusHandler) != 0 {
                installed = false
            }
        }
    }
}

private let sigbusFaults = Atomic<Int>(0)
private let sigbusPageSize = Atomic<Int>(4096)
private let installOnce = Mutex(false)

private func sigbusHandler(_ signal: Int32, _ info: UnsafeMutablePointer<siginfo_t>?, _ context: UnsafeMutableRawPointer?) {
    let pageSize = UInt(sigbusPageSize.load(ordering: .relaxed))
    guard let info, let address = meetmeter_siginfo_address(info) else {
        sigbusDie()
        return
    }
    let page = UInt(bitPattern: address) & ~(pageSize - 1)
    let mapped = mmap(UnsafeMutableRawPointer(bitPattern: page), Int(pageSize), PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0)
    if mapped == UnsafeMutableRawPointer(bitPattern: -1) {
        sigbusDie()
        return
    }
    sigbusFaults.add(1, ordering: .releasing)
}

/// Not a fault we can cover: let SIGBUS do what it would have done.
private func sigbusDie() {
    signal(SIGBUS, SIG_DFL)
    raise(SIGBUS)
}
