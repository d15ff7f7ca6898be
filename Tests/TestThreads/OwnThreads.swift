import Foundation
import Testing

/// Runs a test on threads of its own instead of Swift's cooperative pool.
///
/// Swift Testing runs every test at once on the cooperative pool, which has one thread per core
/// and never takes a thread back from a task that computes. The parser tests that read a synthetic
/// day compute for tens of seconds on a debug build; on the pool they held both threads of a
/// 2-core machine for a minute, and the tests that wait for a file follower or a daemon (on the
/// same pool) ran out of time while nothing of theirs could run (a CI run failed that way). On
/// threads of their own they share the cores with the others through the kernel's scheduler.
/// The test keeps its task, so its expectations are still its own.
public struct OwnThreads: TestTrait, SuiteTrait, TestScoping {
    public var isRecursive: Bool { true }

    public init() {}

    /// Each test (or each case of a parameterised one), not the suite around them.
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> OwnThreads? {
        testCase == nil ? nil : self
    }

    public func provideScope(for test: Test, testCase: Test.Case?,
                             performing function: @Sendable () async throws -> Void) async throws {
        try await withTaskExecutorPreference(ThreadsExecutor.shared) { try await function() }
    }
}

extension Trait where Self == OwnThreads {
    /// Computes on threads of its own: see `OwnThreads`.
    public static var ownThreads: Self { OwnThreads() }
}

/// `body` on a new thread, off the cooperative pool: for blocking waits on processes and sockets,
/// which would otherwise hold one of the pool's threads for as long as they wait.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread { continuation.resume(with: Result { try body() }) }.start()
    }
}

/// A task executor of a few plain threads taking jobs from one queue. (Its threads inherit the
/// name of the thread that first asks for it: in `perf`, look for thread ids, not names.)
final class ThreadsExecutor: TaskExecutor, @unchecked Sendable {
    static let shared = ThreadsExecutor(threads: 2)

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []

    private init(threads: Int) {
        for _ in 0..<threads {
            Thread { self.work() }.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while jobs.isEmpty { condition.wait() }
            let job = jobs.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
