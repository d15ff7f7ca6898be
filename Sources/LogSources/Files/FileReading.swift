#if canImport(Glibc)
import Glibc
#endif

import LogLines
import Logging
import Metrics
import SystemCalls
import UsageRecords

// Reading: lines cut from a file's new bytes, handed over in batches.
extension FollowState {
    /// The next batch of complete lines of `f`, or nil when there is nothing more now.
    mutating func readBatch(_ f: TrackedFile) throws -> FileBatch? {
        var st = stat()
        guard fstat(f.fd, &st) == 0 else { throw FileError(path: f.path, operation: "stat", errno: errno) }
        let size = f.readableSize(st)
        if f.fingerprint == nil {
            if let gz = f.gz {
                f.fingerprint = FileFingerprint.of(prefix: try gz.prefix(FileFingerprint.maxBytes), final: true)
            } else {
                f.fingerprint = try FileFingerprint.read(fd: f.fd, path: f.path, final: !configuration.follow)
            }
            guard let fp = f.fingerprint else { return nil }
            if let k = known.removeValue(forKey: fp.value), k.offset <= size {
                // Seen before under this fingerprint (the agent restarted before its first line was complete).
                f.committed = k.offset; f.lineStart = k.offset; f.scanned = k.offset
            }
        } else if f.gz == nil, try size < f.scanned || !f.fingerprint!.matches(fd: f.fd, path: f.path) {
            try truncated(f, size: size)
            if anotherPass { return nil }   // older files to read first
            return try readBatch(f)
        }
        if f.scanned >= size {
            return finalLine(f)
        }
        f.lastGrowth = .now
        // The kept lines' bytes go into one buffer for the batch, shared by its lines: one
        // allocation a batch instead of a string a line, and only the bytes of lines kept.
        var kept: [UInt8] = []
        var spans: [(offset: UInt64, start: Int, count: Int)] = []
        // Room for one read's worth at once: growing by doubling copies and faults in pages again.
        kept.reserveCapacity(Int(min(size - f.scanned, UInt64(buffer.count))))
        let cap = configuration.maxLineBytes
        let fpValue = f.fingerprint!.value
        let name = configuration.name
        var bytesRead: UInt64 = 0
        // Lines passed over count toward the batch too, so that positions move on regularly.
        var scannedLines = 0
        var passedOver = 0
        while scannedLines < configuration.batchLines && f.scanned < size {
            let want = Int(min(UInt64(buffer.count), size - f.scanned))
            let n: Int
            if let gz = f.gz {
                do {
                    n = try buffer.withUnsafeMutableBytes { raw throws -> Int in try gz.read(into: raw.baseAddress!, count: want, at: f.scanned) }
                } catch {
                    // Corrupt, or cut short: what was read stays delivered, the rest cannot be had.
                    logger.warning("cannot decompress a rotated file further; the rest of it is not read", metadata: [
                        "path": "\(f.path)", "error": "\(error)",
                    ])
                    f.failed = true
                    break
                }
            } else {
                let fd = f.fd, path = f.path, at = f.scanned
                n = try buffer.withUnsafeMutableBytes { raw in
                    Result { () throws(FileError) in
                        try SystemCall.read(fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[..<want]), at: at, path: path)
                    }
                }.get()
            }
            if n == 0 { break }
            // The cutter and the line's start are kept in locals while lines are cut: each access
            // to a class's stored property is checked for exclusivity at run time, and this runs
            // per line. The cutter is moved out and back, so that its held bytes are not copied.
            var cutter = f.cutter
            f.cutter = LineCutter(maximumLineBytes: cap)
            var lineStart = f.lineStart
            let consumed = buffer.withUnsafeBufferPointer { all in
                cutter.cut(UnsafeBufferPointer(rebasing: all[..<n])) { line in
                    scannedLines += 1
                    if line.wasCut { noteOverlong(path: f.path, at: lineStart, length: line.length) }
                    if prefilter?.keeps(line.bytes) == false {
                        passedOver += 1
                    } else {
                        spans.append((lineStart, kept.count, line.bytes.count))
                        kept.append(contentsOf: line.bytes)
                    }
                    lineStart += UInt64(line.extent)
                    return scannedLines < configuration.batchLines
                }
            }
            f.cutter = cutter
            f.lineStart = lineStart
            f.scanned += UInt64(consumed)
            bytesRead += UInt64(consumed)
        }
        counts.lines += scannedLines
        f.linesRead += scannedLines
        counts.passedOver += passedOver
        counts.bytes += bytesRead
        if passedOver > 0 { linesRead.increment(by: Int64(passedOver)) }
        let shared = SharedBytes(kept)
        let lines = spans.map { LogLine(source: name, position: .file(fingerprint: fpValue, offset: $0.offset), shared: shared, start: $0.start, count: $0.count) }
        return FileBatch(lines: lines, end: f.lineStart)
    }

    /// In one-shot mode the input ends at the end of the file: hand over an unfinished last line
    /// once (its position stays unsaved, so a later run reads it again when it is complete).
    mutating func finalLine(_ f: TrackedFile) -> FileBatch? {
        guard !configuration.follow, !f.sawEnd else { return nil }
        f.sawEnd = true
        guard f.scanned > f.lineStart, let fp = f.fingerprint else { return nil }
        // Handed over in any case; the prefilter still follows it, as it follows every line. The
        // cutter keeps holding it: the file may still grow, and its position is not saved.
        var cutter = f.cutter
        let text = cutter.finish { line -> String in
            _ = prefilter?.keeps(line.bytes)
            if line.wasCut { noteOverlong(path: f.path, at: f.lineStart, length: line.length) }
            return String(decoding: line.bytes, as: UTF8.self)
        } ?? ""
        counts.lines += 1
        return FileBatch(lines: [LogLine(source: configuration.name, position: .file(fingerprint: fp.value, offset: f.lineStart), text: text)],
                         end: f.lineStart)
    }

    mutating func noteOverlong(path: String, at offset: UInt64, length: Int) {
        counts.overlongLines += 1
        overlongCounter.increment()
        logger.warning("line longer than max_line_bytes: its start is kept, the rest skipped", metadata: [
            "path": "\(path)", "offset": "\(offset)", "length": "\(length)", "max_line_bytes": "\(configuration.maxLineBytes)",
        ])
    }

    mutating func commit(_ f: TrackedFile, _ batch: FileBatch) {
        f.committed = batch.end
    }
}
