import HostSampling
import LogLines
import LogParsers
import LogSources
import Workloads
import Foundation

/// One figure of the benchmark: what was measured, our rate, the baseline's rate in the same run,
/// and their ratio. Rates, never pass/fail: the machine is shared and noisy.
struct Figure {
    var what: String
    var ours: Double
    var baseline: Double?
    var baselineName: String?
    var unit: String

    var line: String {
        var s = "\(what): \(format(ours)) \(unit)"
        if let baseline, let baselineName {
            s += " | \(baselineName): \(format(baseline)) \(unit) | ratio \(String(format: "%.2f", ours / baseline))"
        }
        return s
    }

    private func format(_ v: Double) -> String {
        v >= 100 ? String(Int(v.rounded())) : String(format: "%.2f", v)
    }
}

enum Measure {
    /// Seconds taken by `body`, best of `repeats` runs (the least disturbed by other load).
    static func seconds(repeats: Int = 3, _ body: () throws -> Void) rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            let end = DispatchTime.now().uptimeNanoseconds
            best = min(best, Double(end - start) / 1e9)
        }
        return best
    }

    static func asyncSeconds(repeats: Int = 3, _ body: () async throws -> Void) async rethrows -> Double {
        var best = Double.infinity
        for _ in 0..<repeats {
            let start = DispatchTime.now().uptimeNanoseconds
            try await body()
            let end = DispatchTime.now().uptimeNanoseconds
            best = min(best, Double(end - start) / 1e9)
        }
        return best
    }

    /// Runs a shell command to its end and returns its wall time (best of N). Its output goes to
    /// `output`, /dev/null by default (but GNU grep sees /dev/null and stops at its first match:
    /// give grep a file).
    static func command(_ command: String, output: String = "/dev/null", repeats: Int = 3) throws -> Double {
        try seconds(repeats: repeats) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", command + " > '\(output)'"]
            try p.run()
            p.waitUntilExit()
        }
    }

    /// Resident memory of a process in KiB, from /proc.
    static func residentKiB(pid: Int32) -> Int? { statusKiB(pid: pid, field: "VmRSS:") }

    /// The process's own memory, without the pages of its program and libraries (RssAnon): what
    /// a dynamically linked build's resident size says of the agent itself, since the shared
    /// libraries' pages it counts are mapped from files and shared with every Swift process.
    static func anonymousKiB(pid: Int32) -> Int? { statusKiB(pid: pid, field: "RssAnon:") }

    private static func statusKiB(pid: Int32, field: String) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix(field) {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            return parts.count > 1 ? Int(parts[1]) : nil
        }
        return nil
    }

    /// CPU seconds (user + system) a process has used, from /proc.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")") else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return nil }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}

extension Measure {
    /// Runs a shell command for its effect (making test data); fails on a non-zero status.
    static func shell(_ command: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command]
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw BenchSkip("'\(command.prefix(120))' exited with \(p.terminationStatus)") }
    }

    /// The value at fraction `q` (0…1) of sorted values.
    static func quantile(_ sorted: [Double], _ q: Double) -> Double {
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
    }
}
