#if canImport(Glibc)
import Glibc
#endif

import LogLines
import Logging
import Metrics
import SystemCalls
import UsageRecords

// Rotation: catching up on the files rotated while the agent was down, and files lost.
extension FollowState {
    /// Catches up on the rotated siblings of `live` (`RotatedSibling` names them and orders them,
    /// oldest first; the live file comes last). Files are known by fingerprint, not by name:
    ///
    /// - one with a saved offset that was being read is finished from that offset (in the
    ///   decompressed content if it was compressed since); one read to its end is not read again;
    /// - the anchor is the newest file of the chain that was read before (`anchors`); a file
    ///   never seen before that is newer than the anchor holds only lines written while the agent
    ///   was not looking, and is read from its start;
    /// - one never seen before that is older than the anchor is left alone: it is history from
    ///   before the agent first ran, or was read under a name that is gone;
    /// - without an anchor (a first start) no rotated file is read, only the live one.
    ///
    /// Files are opened in chain order, so they are read oldest first, then the live file.
    mutating func catchUp(live: String, anchors: Set<UInt64>) {
        struct Link { var path: String; var id: [UInt64]; var fp: UInt64; var compressed: Bool }
        var chain: [Link] = []
        for s in RotatedSibling.siblings(of: live) {
            guard let (fp, id) = Self.identify(s.path) else { continue }
            if let i = chain.firstIndex(where: { $0.fp == fp }) {
                // The same content twice (NAME.1 and NAME.1.gz while gzip runs): read the plain one.
                leftAlone.insert(s.compressed ? id : chain[i].id)
                if chain[i].compressed && !s.compressed { chain[i] = Link(path: s.path, id: id, fp: fp, compressed: false) }
                continue
            }
            chain.append(Link(path: s.path, id: id, fp: fp, compressed: s.compressed))
        }
        guard !chain.isEmpty else { return }
        let liveFP = files.first(where: { !$0.rotated && $0.path == live })?.fingerprint?.value
            ?? (Self.identify(live)?.fingerprint)
        let anchor: Int
        if let liveFP, anchors.contains(liveFP) {
            anchor = chain.count
        } else if let i = chain.lastIndex(where: { anchors.contains($0.fp) }) {
            anchor = i
        } else {
            for link in chain { leftAlone.insert(link.id) }
            counts.olderRotatedSkipped += chain.count
            return
        }
        for (i, link) in chain.enumerated() {
            if files.contains(where: { $0.fingerprint?.value == link.fp }) { continue }   // being read
            var offset: UInt64 = 0
            if let k = known[link.fp] {
                if k.done { leftAlone.insert(link.id); continue }
                if !link.compressed, let size = Self.size(of: link.path), size <= k.offset {
                    // Read to its end before: nothing to finish.
                    known[link.fp]?.done = true
                    leftAlone.insert(link.id)
                    continue
                }
                offset = k.offset
            } else if i < anchor {
                leftAlone.insert(link.id)
                counts.olderRotatedSkipped += 1
                continue
            }
            let before = files.count
            do {
                try open(path: link.path, rotatedCopy: true, offset: offset)
            } catch {
                logger.warning("cannot open a rotated file to catch up on it", metadata: ["path": "\(link.path)", "error": "\(error)"])
                continue
            }
            guard files.count > before, let f = files.last else { continue }
            f.catchingUp = true
            if let k = known.removeValue(forKey: link.fp) {
                retiredOrder.removeAll { $0 == link.fp }
                counts.recoveredRotated += 1
                logger.notice("catching up: finishing a file rotated while the agent was not reading it, from its saved offset", metadata: [
                    "path": "\(link.path)", "was": "\(k.path)", "offset": "\(offset)", "compressed": "\(link.compressed)",
                ])
            } else {
                counts.caughtUpFiles += 1
                logger.notice("catching up: reading a rotated file never seen before, newer than the last one read, from its start", metadata: [
                    "path": "\(link.path)", "live": "\(live)", "compressed": "\(link.compressed)",
                ])
            }
        }
    }

    static func size(of path: String) -> UInt64? {
        var st = stat()
        return stat(path, &st) == 0 ? UInt64(st.st_size) : nil
    }

    /// Saved files being read that catching up found nowhere, plain or gzip (deleted, or
    /// compressed in a way not read): what was written to them after the saved offset is lost. Said once.
    mutating func reportLost() {
        for (fp, k) in known where !k.path.isEmpty && !k.done {
            if files.contains(where: { $0.fingerprint?.value == fp }) { continue }
            counts.lostFiles += 1
            logger.warning("a file being read was deleted (or compressed other than by gzip) while the agent was down; anything written to it after the saved offset is lost", metadata: [
                "was": "\(k.path)", "offset": "\(k.offset)",
            ])
            known[fp]?.done = true
        }
    }

    // MARK: Reading

    /// The file shrank or now starts with other bytes: copytruncate (or a rewrite in place). The
    /// lines between our offset and the truncation may survive in the copy; finish them there,
    /// then read the file again from its start.
    mutating func truncated(_ f: TrackedFile, size: UInt64) throws {
        counts.truncations += 1
        let old = f.fingerprint
        let filesBefore = files.count
        logger.notice("file truncated or rewritten in place; reading it again from its start", metadata: [
            "path": "\(f.path)", "offset": "\(f.committed)", "size": "\(size)",
        ])
        if let old {
            // Hand the old identity to the copy so the live file can take a new one.
            f.fingerprint = nil
            var copied = false
            // Newest first: the copy is usually NAME.1 (or NAME.1.gz without delaycompress).
            for sibling in RotatedSibling.siblings(of: f.path).reversed() {
                let candidate = sibling.path
                guard Self.identify(candidate)?.fingerprint == old.value,
                      !files.contains(where: { $0.path == candidate }) else { continue }
                let before = files.count
                try open(path: candidate, rotatedCopy: true, offset: f.committed)
                copied = files.count > before
                if copied {
                    logger.info("finishing the truncated file from its copy", metadata: ["path": "\(candidate)", "offset": "\(f.committed)"])
                    break
                }
            }
            if !copied {
                // No copy: what was between our offset and the truncation is gone; keep the offset
                // in case the copy appears later under a name we look at.
                remember(old.value, offset: f.committed, path: f.path, done: false)
            }
        }
        f.fingerprint = nil
        f.committed = 0
        f.lineStart = 0
        f.scanned = 0
        f.cutter.reset()
        f.sawEnd = false
        // Truncated more than once since the last look: the copies made in between are newer
        // than the one just found and were never seen.
        var anchors = Set(known.keys).union(files.compactMap { $0.fingerprint?.value })
        if let old { anchors.insert(old.value) }
        catchUp(live: f.path, anchors: anchors)
        if files.count > filesBefore { anotherPass = true }
    }

    mutating func remember(_ fp: UInt64, offset: UInt64, path: String, done: Bool = true) {
        known[fp] = KnownOffset(offset: offset, path: path, done: done)
        retiredOrder.removeAll { $0 == fp }
        retiredOrder.append(fp)
        while retiredOrder.count > 256 {
            known.removeValue(forKey: retiredOrder.removeFirst())
        }
    }

    /// Closes rotated files read to their end that have not grown for a while (at once in one-shot
    /// mode); their offsets are kept so that finding them again reads nothing twice.
    mutating func retireFinished(follow: Bool) {
        let now = ContinuousClock.now
        var done: [TrackedFile] = []
        for f in files where f.rotated || !follow {
            var st = stat()
            guard fstat(f.fd, &st) == 0 else { continue }
            guard f.scanned >= f.readableSize(st) else { continue }
            if follow && now - f.lastGrowth < configuration.rotatedGrace { continue }
            done.append(f)
        }
        for f in done {
            // A live file read to its end in one-shot mode is not finished: it may grow, rotate.
            // A compressed file that could not be read on is not finished either.
            if let fp = f.fingerprint { remember(fp.value, offset: f.committed, path: f.path, done: f.rotated && !f.failed) }
            if f.catchingUp {
                counts.caughtUpLines += f.linesRead
                logger.notice("caught up on a rotated file", metadata: [
                    "path": "\(f.path)", "lines": "\(f.linesRead)", "from_offset": "\(f.startOffset)", "to_offset": "\(f.committed)",
                ])
            }
            files.removeAll { $0 === f }
        }
    }
}
