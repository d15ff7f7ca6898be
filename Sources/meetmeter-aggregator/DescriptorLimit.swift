#if canImport(Glibc)
import Glibc
#endif

/// RLIMIT_NOFILE: each agent's connection holds a descriptor, so the aggregator raises its soft
/// limit to the hard one at start (systemd's default soft limit is 1024) and sizes its connection
/// limits by what it got.
enum DescriptorLimit {
    struct Figures {
        /// The soft limit found at start.
        var before: Int
        /// The soft limit now.
        var soft: Int
        var hard: Int
        /// Why the soft limit could not be raised (a seccomp filter, say); nil if it was not needed or worked.
        var error: String?
    }

    static func raiseSoftToHard() -> Figures {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else {
            let message = String(cString: strerror(errno))
            return Figures(before: 1024, soft: 1024, hard: 1024, error: "getrlimit: \(message)")
        }
        let before = Self.int(limit.rlim_cur)
        let hard = Self.int(limit.rlim_max)
        guard limit.rlim_cur < limit.rlim_max else { return Figures(before: before, soft: before, hard: hard) }
        var raised = limit
        raised.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 else {
            let message = String(cString: strerror(errno))
            return Figures(before: before, soft: before, hard: hard, error: "setrlimit: \(message)")
        }
        return Figures(before: before, soft: hard, hard: hard)
    }

    /// Limits beyond what an Int holds (RLIM_INFINITY) count as Int.max.
    private static func int(_ value: rlim_t) -> Int {
        value > rlim_t(Int.max) ? Int.max : Int(value)
    }
}
