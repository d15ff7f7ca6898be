#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Cuts a byte stream into lines, with one rule for every reader of lines in the project (log
/// files, standard input, the shipper's answers):
///
/// - a line is the bytes before LF, without one CR just before it;
/// - a line longer than `maximumLineBytes` keeps its first `maximumLineBytes` bytes and skips the
///   rest up to its LF; it is reported with `length`, its full length, so that each reader can say
///   so (a log reader counts it and goes on, a protocol reader refuses the peer);
/// - at most `maximumLineBytes + 1` bytes of an unfinished line are held, whatever the peer sends.
///
/// Chunks are cut where they lie: a line within one chunk is handed over without a copy; only the
/// start of a line that continues in the next chunk is kept.
public struct LineCutter: Sendable {
    public let maximumLineBytes: Int
    /// The start of an unfinished line, up to the limit and one byte more (a CR of a line of
    /// exactly the limit).
    @usableFromInline var head: [UInt8] = []
    /// The full length of the unfinished line so far.
    @usableFromInline var headLength = 0
    /// The last byte of the unfinished line, held or not.
    @usableFromInline var headLast: UInt8 = 0

    /// One line as the cutter hands it over.
    public struct Line {
        /// The line's bytes without LF and CR, at most `maximumLineBytes` of them. Valid only
        /// during the call that hands the line over.
        public var bytes: UnsafeBufferPointer<UInt8>
        /// The line's full length, without LF and CR: more than `bytes.count` when it was cut.
        public var length: Int
        /// The bytes of the stream the line took, its CR and LF included: where the next starts.
        public var extent: Int

        public var wasCut: Bool { length > bytes.count }

        @inlinable
        init(bytes: UnsafeBufferPointer<UInt8>, length: Int, extent: Int) {
            self.bytes = bytes
            self.length = length
            self.extent = extent
        }
    }

    public init(maximumLineBytes: Int) {
        precondition(maximumLineBytes > 0)
        self.maximumLineBytes = maximumLineBytes
    }

    /// The full length so far of the unfinished line, held or not.
    public var heldLength: Int { headLength }
    /// The bytes actually kept of the unfinished line: at most the limit and one byte.
    public var heldBytes: Int { head.count }

    /// Cuts the lines of `chunk` that end in it, handing each to `line`, which returns false to
    /// stop there. Returns how many bytes of the chunk were used: everything, or up to and with
    /// the LF of the last line handed over. A line not ended in the chunk is held for the next one.
    @inlinable
    public mutating func cut(_ chunk: UnsafeBufferPointer<UInt8>, _ line: (Line) throws -> Bool) rethrows -> Int {
        guard let base = chunk.baseAddress, chunk.count > 0 else { return 0 }
        let n = chunk.count
        var start = 0
        while start < n {
            guard let hit = memchr(base + start, 0x0A, n - start) else {
                hold(UnsafeBufferPointer(start: base + start, count: n - start))
                return n
            }
            let nl = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
            let piece = UnsafeBufferPointer(start: base + start, count: nl - start)
            let more: Bool
            if headLength == 0 {
                var length = piece.count
                if length > 0 && piece[length - 1] == 0x0D { length -= 1 }
                more = try line(Line(bytes: UnsafeBufferPointer(start: piece.baseAddress, count: Swift.min(length, maximumLineBytes)),
                                     length: length, extent: piece.count + 1))
            } else {
                hold(piece)
                headLength += 1  // the LF
                more = try takeHead(line)
            }
            start = nl + 1
            if !more { return start }
        }
        return n
    }

    /// The unfinished line at the end of the stream, handed to `line` as a line; nothing when none
    /// is held.
    @inlinable
    public mutating func finish<R>(_ line: (Line) throws -> R) rethrows -> R? {
        guard headLength > 0 else { return nil }
        var result: R?
        _ = try takeHead(endedByLF: false) { l in
            result = try line(l)
            return true
        }
        return result
    }

    /// Forgets the unfinished line (the file it came from was truncated).
    public mutating func reset() {
        head.removeAll(keepingCapacity: true)
        headLength = 0
        headLast = 0
    }

    @usableFromInline
    mutating func hold(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count > 0 else { return }
        let room = maximumLineBytes + 1 - head.count
        if room > 0 { head.append(contentsOf: UnsafeBufferPointer(rebasing: bytes.prefix(room))) }
        headLength += bytes.count
        headLast = bytes[bytes.count - 1]
    }

    /// Hands over the held line. `headLength` counts its LF when `endedByLF`; `headLast` is the
    /// last byte before it.
    @usableFromInline
    mutating func takeHead(endedByLF: Bool = true, _ line: (Line) throws -> Bool) rethrows -> Bool {
        let extent = headLength
        var length = endedByLF ? headLength - 1 : headLength
        if length > 0 && headLast == 0x0D { length -= 1 }
        let kept = Swift.min(length, maximumLineBytes)
        defer {
            head.removeAll(keepingCapacity: true)
            headLength = 0
            headLast = 0
        }
        return try head.withUnsafeBufferPointer {
            try line(Line(bytes: UnsafeBufferPointer(rebasing: $0.prefix(kept)), length: length, extent: extent))
        }
    }
}

/// A cutter over owned chunks, for readers that take a line at a time (standard input, the
/// shipper's answers).
public struct LineQueue: Sendable {
    public private(set) var cutter: LineCutter
    private var ready: [(bytes: [UInt8], length: Int)] = []
    private var next = 0

    public init(maximumLineBytes: Int) { cutter = LineCutter(maximumLineBytes: maximumLineBytes) }

    public var maximumLineBytes: Int { cutter.maximumLineBytes }

    /// Cuts `chunk`; its lines are then had from `pop`.
    public mutating func append(_ chunk: UnsafeRawBufferPointer) {
        if next == ready.count { ready.removeAll(keepingCapacity: true); next = 0 }
        let bytes = chunk.bindMemory(to: UInt8.self)
        _ = cutter.cut(bytes) { line in
            ready.append((Array(line.bytes), line.length))
            return true
        }
    }

    /// The next whole line (its kept bytes and its full length), if one was cut.
    public mutating func pop() -> (bytes: [UInt8], length: Int)? {
        guard next < ready.count else { return nil }
        defer { next += 1 }
        return ready[next]
    }

    /// The unfinished line at the end of the stream, if any.
    public mutating func finish() -> (bytes: [UInt8], length: Int)? {
        if let line = pop() { return line }
        return cutter.finish { (Array($0.bytes), $0.length) }
    }
}
