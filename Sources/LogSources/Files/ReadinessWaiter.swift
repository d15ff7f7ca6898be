#if canImport(Glibc)
import Glibc
#endif

import LogLines
import SystemCalls
import UsageRecords
import NIOPosix

/// Blocks a dedicated thread in poll(2) on some file descriptors until one is readable, a
/// timeout passes, or the waiting task is cancelled (a pipe wakes the poll). Sources wait
/// this way instead of polling, and never block the cooperative thread pool.
final class ReadinessWaiter: Sendable {
    private let wakeFD: Int32
    private let wakeWriteFD: Int32

    init() throws(FileError) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw FileError(path: "pipe", operation: "pipe", errno: errno) }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        wakeFD = fds[0]
        wakeWriteFD = fds[1]
    }

    deinit {
        close(wakeFD)
        close(wakeWriteFD)
    }

    /// Wakes a current or the next wait.
    func wake() {
        var one: UInt8 = 1
        _ = Glibc.write(wakeWriteFD, &one, 1)
    }

    /// Polls on `thread` (a one-thread pool, so that sd-journal's handle stays on its thread when
    /// the journal reader calls this from its own pool). Returns true when a descriptor is ready.
    /// `timeoutMilliseconds` < 0 waits without limit.
    func wait(on pool: NIOThreadPool, fds: [Int32], timeoutMilliseconds: Int32) async throws -> Bool {
        let wake = wakeFD
        return try await withTaskCancellationHandler {
            try await pool.runIfActive { () -> Bool in
                ReadinessWaiter.poll(fds: fds, wake: wake, timeoutMilliseconds: timeoutMilliseconds)
            }
        } onCancel: {
            self.wake()
        }
    }

    /// The same wait, called on the current thread (already the dedicated one).
    func waitHere(fds: [Int32], timeoutMilliseconds: Int32) -> Bool {
        Self.poll(fds: fds, wake: wakeFD, timeoutMilliseconds: timeoutMilliseconds)
    }

    private static func poll(fds: [Int32], wake: Int32, timeoutMilliseconds: Int32) -> Bool {
        var pfds = fds.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        pfds.append(pollfd(fd: wake, events: Int16(POLLIN), revents: 0))
        let n = Glibc.poll(&pfds, nfds_t(pfds.count), timeoutMilliseconds)
        if pfds.last!.revents != 0 {
            var drain = [UInt8](repeating: 0, count: 64)
            while Glibc.read(wake, &drain, drain.count) > 0 {}
        }
        return n > 0 && pfds.dropLast().contains { $0.revents != 0 }
    }
}
