#if canImport(Glibc)
import Glibc
#endif

import LogLines
import Logging
import Metrics
import SystemCalls
import UsageRecords

/// How a `FileFollower` reads.
public struct FileFollowerConfiguration: Sendable {
    /// The source's name (positions and records are kept under it).
    public var name: String
    /// Absolute paths or glob patterns (`/var/log/bigbluebutton/*.log`).
    public var patterns: [String]
    /// true: follow until cancelled. false: read every file to its end once and return (for
    /// `meetmeter parse` and draining); the unfinished last line of a file is then handed over
    /// too, since the input ends there, but the saved position stays before it.
    public var follow: Bool
    /// Where positions are kept; nil reads every file from its start and saves nothing.
    public var positions: PositionStore?
    /// A longer line is cut: its first `maxLineBytes` bytes are handed over as the line and the
    /// rest, up to its newline, is skipped, counted and logged once per line.
    public var maxLineBytes: Int
    /// Lines per hand-over.
    public var batchLines: Int
    /// The parser's look at each line's bytes (`ParserChoice.prefilter`): lines it passes over
    /// are counted but never made into `LogLine`s. Nil hands over every line.
    public var prefilter: (any LinePrefilter)?
    /// The slow poll behind inotify: files in folders inotify cannot watch, or moved elsewhere.
    public var pollInterval: Duration
    /// How long a rotated (renamed or deleted) file is kept open after it last grew, for a writer
    /// that has not yet reopened its log.
    public var rotatedGrace: Duration

    public init(name: String, patterns: [String], follow: Bool = true, positions: PositionStore? = nil,
                maxLineBytes: Int = 1 << 20, batchLines: Int = 2048, prefilter: (any LinePrefilter)? = nil,
                pollInterval: Duration = .seconds(2), rotatedGrace: Duration = .seconds(5))
    {
        self.prefilter = prefilter
        self.name = name
        self.patterns = patterns
        self.follow = follow
        self.positions = positions
        self.maxLineBytes = maxLineBytes
        self.batchLines = batchLines
        self.pollInterval = pollInterval
        self.rotatedGrace = rotatedGrace
    }
}

/// What a file follower has done, for logs, tests and `meetmeter parse`.
public struct FileFollowerCounts: Sendable, Equatable {
    /// Lines read, handed over or not.
    public var lines = 0
    /// Of those, the lines the prefilter passed over.
    public var passedOver = 0
    public var bytes: UInt64 = 0
    public var overlongLines = 0
    public var filesOpened = 0
    public var rotations = 0
    public var truncations = 0
    /// Files rotated while the agent was down and finished from their saved offset.
    public var recoveredRotated = 0
    /// Rotated files never seen before, newer than the last file read, read from their start
    /// while catching up (the middle files of several rotations while the agent was down).
    public var caughtUpFiles = 0
    /// Lines read from rotated files while catching up (finished or read whole).
    public var caughtUpLines = 0
    /// Rotated files left alone because they are older than the last file read (history from
    /// before the agent first ran, or already read under another name).
    public var olderRotatedSkipped = 0
    /// Files being read when the agent stopped that were deleted or compressed before it came
    /// back: anything written to them after the saved offset is lost, and said so.
    public var lostFiles = 0
    /// Times the follower woke from waiting (inotify or the slow poll): the idle cost.
    public var wakeups = 0

    public init() {}
}
