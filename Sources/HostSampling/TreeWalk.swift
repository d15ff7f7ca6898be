#if canImport(Glibc)
import Glibc
#endif
import SystemCalls
import UsageRecords

/// A file's identity on this host: the device and inode numbers.
struct InodeKey: Hashable, Sendable {
    var device: UInt64
    var inode: UInt64
}

/// What one directory looked like when a tree was measured: enough to tell later, with one
/// `openat` and one `fstat`, whether an entry was added, removed or renamed in it since.
struct DirectoryStamp: Sendable, Equatable {
    /// Index of the parent directory's stamp in the same list; -1 for the tree's top.
    var parent: Int
    var name: String
    var key: InodeKey
    var mtime: Int64
    var ctime: Int64
}

/// What a walk of one tree counted.
struct WalkTotals: Sendable {
    /// Allocated bytes (`st_blocks * 512`) of every entry, the top directory included, each
    /// hard-linked inode once: what `du -sB1` prints.
    var bytes: Int64 = 0
    /// Entries that are not directories (files, symlinks, sockets, …), each inode once.
    var files = 0
    var directories = 0
    /// Entries that disappeared between being listed and being looked at (not an error).
    var vanished = 0
    /// Entries that could not be read (permissions, I/O errors); the first one is in `problem`.
    var unreadable = 0
    /// Directories skipped because they are their own ancestor (a bind mount loop).
    var cycles = 0
    /// The newest status change (`st_ctim`, nanoseconds since the epoch) of anything counted.
    var newestChange: Int64 = .min
    /// Inodes with more than one link that this walk counted, so that a later pass that reuses
    /// this walk's figure can still count each of them once.
    var linkedInodes: [InodeKey] = []
    var problem: String?

    mutating func add(_ other: WalkTotals) {
        bytes += other.bytes
        files += other.files
        directories += other.directories
        vanished += other.vanished
        unreadable += other.unreadable
        cycles += other.cycles
        newestChange = max(newestChange, other.newestChange)
        linkedInodes += other.linkedInodes
        if problem == nil { problem = other.problem }
    }
}

/// Walks a directory tree with directory file descriptors, the way `du -s` does but cheaper:
///
/// - every entry is looked at with `fstatat(dirfd, name, AT_SYMLINK_NOFOLLOW)` and directories
///   are entered with `openat(dirfd, name, O_DIRECTORY | O_NOFOLLOW)`, so a symlink is counted as
///   itself and never followed, and no path is ever resolved again from the top (a folder renamed
///   or replaced by a symlink mid-walk cannot lead the walk out of the tree);
/// - directories are recognised from `d_type` without a `stat` of their own: they are `fstat`ed
///   once, through the descriptor that enters them;
/// - only the names of subdirectories are copied out of `readdir`'s buffer;
/// - at most one descriptor per level of depth is open at a time;
/// - an entry that vanished between `readdir` and its `fstatat`/`openat` (ENOENT) is counted as
///   vanished, not as an error; an entry replaced by another kind of entry is counted as what it
///   is now.
///
/// Bytes are allocated blocks (`st_blocks * 512`), so sparse files count what they occupy, and an
/// inode with several links is counted once per walker (a walker is one "walk": the several trees
/// of one sampling pass share it, as `du -s a b` shares it across its arguments).
struct TreeWalker {
    /// Inodes with several links counted so far.
    var seen: Set<InodeKey> = []
    /// When set, the walk keeps a stamp of every directory (for `RecordingCache`).
    var recordStamps = false
    private(set) var stamps: [DirectoryStamp] = []
    /// Test hook: called with an entry's path relative to the top just before it is looked at.
    var beforeEntry: ((String) -> Void)?

    init(recordStamps: Bool = false) { self.recordStamps = recordStamps }

    private struct Frame {
        let dir: OpaquePointer
        let fd: Int32
        let key: InodeKey
        let relative: String
        let stamp: Int
        var subdirectories: [String]
        var next = 0
    }

    static let nameOffset = MemoryLayout<dirent>.offset(of: \dirent.d_name) ?? 19

    /// Walks the tree whose top directory is open as `fd`, and closes `fd`. `path` names the tree
    /// in messages.
    mutating func walk(ownedDirectory fd: Int32, path: String) -> WalkTotals {
        var totals = WalkTotals()
        stamps.removeAll(keepingCapacity: true)
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            totals.unreadable += 1
            totals.problem = FileError(path: path, operation: "stat", errno: errno).description
            close(fd)
            return totals
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else {
            // Not a directory: the tree is that one entry.
            close(fd)
            countFile(st, &totals)
            return totals
        }
        var stack: [Frame] = []
        if let top = enter(fd: fd, st: st, name: "", parent: nil, path: path, totals: &totals) {
            stack.append(top)
        }
        while !stack.isEmpty {
            let i = stack.count - 1
            if stack[i].next < stack[i].subdirectories.count {
                let name = stack[i].subdirectories[stack[i].next]
                stack[i].next += 1
                if let child = descend(into: name, from: stack[i], ancestors: stack, path: path, totals: &totals) {
                    stack.append(child)
                }
            } else {
                closedir(stack[i].dir)
                stack.removeLast()
            }
        }
        return totals
    }

    /// Opens `name` in the parent frame's directory and counts it; nil when there is nothing to
    /// descend into.
    private mutating func descend(into name: String, from parent: Frame, ancestors: [Frame], path: String,
                                  totals: inout WalkTotals) -> Frame?
    {
        let relative = parent.relative.isEmpty ? name : parent.relative + "/" + name
        beforeEntry?(relative)
        let fd = openat(parent.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            switch e {
            case ENOENT:
                totals.vanished += 1
            case ENOTDIR, ELOOP:
                // Replaced by a file or a symlink since it was listed: count what is there now.
                var subdirectories: [String] = []
                statEntry(parent.fd, name, parentRelative: parent.relative, path: path, totals: &totals,
                          subdirectories: &subdirectories)
            case EACCES, EPERM:
                // Like du: the folder itself is counted, its contents cannot be.
                var st = stat()
                if fstatat(parent.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 { countDirectory(st, &totals) }
                note(e, "open", path, relative, &totals)
            default:
                note(e, "open", path, relative, &totals)
            }
            return nil
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            note(errno, "stat", path, relative, &totals)
            close(fd)
            return nil
        }
        let key = InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        if ancestors.contains(where: { $0.key == key }) {
            totals.cycles += 1
            close(fd)
            return nil
        }
        return enter(fd: fd, st: st, name: name, parent: parent, path: path, totals: &totals)
    }

    /// Counts an opened directory and reads its entries: files are counted at once, the names of
    /// subdirectories kept for later.
    private mutating func enter(fd: Int32, st: stat, name: String, parent: Frame?, path: String,
                                totals: inout WalkTotals) -> Frame?
    {
        countDirectory(st, &totals)
        let key = InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        let stampIndex = stamps.count
        if recordStamps {
            stamps.append(DirectoryStamp(parent: parent?.stamp ?? -1, name: name, key: key,
                                         mtime: Self.nanoseconds(st.st_mtim), ctime: Self.nanoseconds(st.st_ctim)))
        }
        let relative = parent.map { $0.relative.isEmpty ? name : $0.relative + "/" + name } ?? ""
        guard let dir = fdopendir(fd) else {
            note(errno, "opendir", path, relative, &totals)
            close(fd)
            return nil
        }
        var subdirectories: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 && errno != ENOENT { note(errno, "readdir", path, relative, &totals) }
                break
            }
            let raw = UnsafeRawPointer(entry) + Self.nameOffset
            let namePointer = raw.assumingMemoryBound(to: CChar.self)
            if namePointer[0] == 0x2E && (namePointer[1] == 0 || (namePointer[1] == 0x2E && namePointer[2] == 0)) {
                continue
            }
            if entry.pointee.d_type == UInt8(DT_DIR) {
                subdirectories.append(String(cString: namePointer))
                continue
            }
            if let beforeEntry {
                let n = String(cString: namePointer)
                beforeEntry(relative.isEmpty ? n : relative + "/" + n)
            }
            statEntry(fd, namePointer, parentRelative: relative, path: path, totals: &totals,
                      subdirectories: &subdirectories)
        }
        return Frame(dir: dir, fd: fd, key: key, relative: relative, stamp: stampIndex, subdirectories: subdirectories)
    }

    /// Looks at one entry without following it; a directory (its type was unknown to readdir) is
    /// added to `subdirectories` to be entered later.
    private mutating func statEntry(_ dirFD: Int32, _ name: UnsafePointer<CChar>, parentRelative: String,
                                    path: String, totals: inout WalkTotals, subdirectories: inout [String])
    {
        var st = stat()
        guard fstatat(dirFD, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else {
            let e = errno
            if e == ENOENT {
                totals.vanished += 1
            } else {
                let n = String(cString: name)
                note(e, "stat", path, parentRelative.isEmpty ? n : parentRelative + "/" + n, &totals)
            }
            return
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            subdirectories.append(String(cString: name))
        } else {
            countFile(st, &totals)
        }
    }

    private mutating func countFile(_ st: stat, _ totals: inout WalkTotals) {
        if st.st_nlink > 1 {
            let key = InodeKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
            guard seen.insert(key).inserted else { return }
            totals.linkedInodes.append(key)
        }
        totals.bytes += Int64(st.st_blocks) * 512
        totals.files += 1
        totals.newestChange = max(totals.newestChange, Self.nanoseconds(st.st_ctim))
    }

    private func countDirectory(_ st: stat, _ totals: inout WalkTotals) {
        totals.bytes += Int64(st.st_blocks) * 512
        totals.directories += 1
        totals.newestChange = max(totals.newestChange, Self.nanoseconds(st.st_ctim))
    }

    private func note(_ e: Int32, _ operation: String, _ path: String, _ relative: String, _ totals: inout WalkTotals) {
        totals.unreadable += 1
        if totals.problem == nil {
            let full = relative.isEmpty ? path : path + "/" + relative
            totals.problem = FileError(path: full, operation: operation, errno: e).description
        }
    }

    static func nanoseconds(_ t: timespec) -> Int64 { Int64(t.tv_sec) * 1_000_000_000 + Int64(t.tv_nsec) }
}

/// The allocated size of a directory tree, as `du -sB1` counts it (see `TreeWalker`).
public struct TreeUsage: Sendable {
    /// Bytes allocated to `root` and everything under it, and the number of non-directory
    /// entries. The root path itself is resolved as given (it may be a symlink to a folder, as
    /// /var/bigbluebutton often is); nothing under it is followed. Throws if `root` cannot be
    /// opened; entries vanishing during the walk are not errors.
    public static func measure(root: String) throws -> (bytes: Int64, files: Int) {
        let totals = try walk(root: root)
        return (totals.bytes, totals.files)
    }

    static func walk(root: String, walker: inout TreeWalker) throws(FileError) -> WalkTotals {
        var fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 && errno == ENOTDIR {
            fd = open(root, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        }
        guard fd >= 0 else { throw FileError(path: root, operation: "open", errno: errno) }
        return walker.walk(ownedDirectory: fd, path: root)
    }

    static func walk(root: String) throws(FileError) -> WalkTotals {
        var walker = TreeWalker()
        return try walk(root: root, walker: &walker)
    }
}
