#if canImport(Glibc)
import Glibc
#endif

import LogLines
import UsageRecords
import CSystemShim
import Logging
import SystemCalls

/// inotify on the folders of the patterns: any change in them wakes the follower.
final class DirectoryWatcher {
    private var fd: Int32 = -1
    private var watched: Set<String> = []
    private let directories: [String]
    private let logger: Logger

    init(patterns: [String], logger: Logger) {
        self.logger = logger
        var dirs: [String] = []
        for p in patterns {
            var dir = PosixFile.directory(of: p)
            // A glob in the folder part: watch the nearest folder above it; the slow poll covers the rest.
            while dir.contains(where: { "*?[".contains($0) }) { dir = PosixFile.directory(of: dir) }
            if !dirs.contains(dir) { dirs.append(dir) }
        }
        directories = dirs
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        if fd < 0 { logger.warning("inotify unavailable; polling files", metadata: ["error": "\(String(cString: strerror(errno)))"]) }
        refresh()
    }

    deinit { if fd >= 0 { close(fd) } }

    var fds: [Int32] { fd >= 0 ? [fd] : [] }

    /// Adds watches on folders that exist now (a folder may appear after the agent started).
    func refresh() {
        guard fd >= 0 else { return }
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)
        for dir in directories where !watched.contains(dir) {
            if inotify_add_watch(fd, dir, mask) >= 0 { watched.insert(dir) }
        }
    }

    /// Reads the pending events away; which file changed does not matter, everything is checked.
    func drain() {
        guard fd >= 0 else { return }
        var buf = [UInt8](repeating: 0, count: 8192)
        var selfGone = false
        while true {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            buf.withUnsafeBytes { raw in
                var offset = 0
                var event = meetmeter_inotify_event()
                while meetmeter_inotify_event_at(raw.baseAddress, n, offset, &event) == 0 {
                    if event.mask & UInt32(IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF) != 0 { selfGone = true }
                    offset += event.length
                }
            }
        }
        if selfGone {
            // A watched folder went away (or moved): start over with the folders that exist now.
            close(fd)
            fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
            watched.removeAll()
            refresh()
        }
    }
}
