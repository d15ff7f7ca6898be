#if canImport(Glibc)
import Glibc
#endif

import LogLines
import Logging
import Metrics
import SystemCalls
import UsageRecords
import NIOPosix

/// Follows log files by path and glob: reads each from its saved offset (from the start the first
/// time), hands over complete lines, survives rotation by rename and by copytruncate, truncation,
/// deletion and inode reuse (files are known by `FileFingerprint`, not inode), catches up on the
/// files rotated while the agent was down (however many times, compressed or not: see
/// `RotatedSibling` and `FollowState.catchUp`), and wakes on inotify with a slow poll behind it.
public struct FileFollower: LineSource {
    public let configuration: FileFollowerConfiguration
    let logger: Logger
    let countsBox = LockedBox(FileFollowerCounts())

    public var name: String { configuration.name }
    /// What the follower has done so far (updated after every pass).
    public var counts: FileFollowerCounts { countsBox.value }
    public var passedOver: Int { counts.passedOver }

    public init(configuration: FileFollowerConfiguration, logger: Logger) {
        self.configuration = configuration
        var l = logger
        l[metadataKey: "source"] = "\(configuration.name)"
        self.logger = l
    }

    public func run(deliver: @escaping @Sendable ([LogLine]) async throws -> Void) async throws {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        defer { pool.shutdownGracefully { _ in } }
        var state = try FollowState(configuration: configuration, logger: logger)
        let waiter = configuration.follow ? try ReadinessWaiter() : nil
        let watcher = configuration.follow ? DirectoryWatcher(patterns: configuration.patterns, logger: logger) : nil
        var saver = ThrottledPositionSaver(store: configuration.positions, source: configuration.name)

        func publish() {
            countsBox.value = state.counts
        }
        do {
            while true {
                try Task.checkCancellation()
                try state.discover()
                var progressed = false
                for file in state.readOrder() {
                    while let batch = try state.readBatch(file) {
                        if !batch.lines.isEmpty {
                            try await deliver(batch.lines)
                        }
                        state.commit(file, batch)
                        try await saver.updateWaitingForRoom(state.positionFields())
                        progressed = true
                        try Task.checkCancellation()
                    }
                }
                state.retireFinished(follow: configuration.follow)
                publish()
                // A truncation found while reading opened older files to read first: go round again.
                let again = state.takeAnotherPass()
                if !configuration.follow && !again {
                    try await saver.updateWaitingForRoom(state.positionFields(), force: true)
                    return
                }
                if !progressed && !again {
                    try await saver.flushWaitingForRoom()
                    watcher!.refresh()
                    let timeout = Int32(clamping: configuration.pollInterval.components.seconds * 1000
                        + configuration.pollInterval.components.attoseconds / 1_000_000_000_000_000)
                    _ = try await waiter!.wait(on: pool, fds: watcher!.fds, timeoutMilliseconds: timeout)
                    watcher!.drain()
                    state.counts.wakeups += 1
                }
            }
        } catch {
            publish()
            // Whatever stopped us, the last delivered position is the one to keep.
            try? saver.update(state.positionFields(), force: true)
            if error.isCancellation || Task.isCancelled { return }
            throw error
        }
    }
}
