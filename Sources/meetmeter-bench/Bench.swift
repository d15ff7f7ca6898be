import HostSampling
import LogLines
import LogParsers
import LogSources
import Workloads
import Foundation

/// `meetmeter-bench`: every benchmark of the project, one line a figure, each against a baseline
/// measured in the same run (this machine is shared and noisy, so only ratios compare).
///
///     swift build -c release && .build/release/meetmeter-bench [--quick] [--only NAME]
@main
struct Bench {
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        let quick = arguments.contains("--quick")
        let only = arguments.firstIndex(of: "--only").flatMap { arguments.index(after: $0) < arguments.endIndex ? arguments[arguments.index(after: $0)] : nil }
        let scale = quick ? 10 : 1
        let sections: [(String, () async throws -> [String])] = [
            ("files", { try await SourceFigures.files(lines: 2_000_000 / scale) }),
            ("journal", { try await SourceFigures.journal(entries: 200_000 / scale) }),
            ("codec", { try CodecFigures.rates(records: 600_000 / scale) }),
            ("parser", { try await ParserFigures.mixedDay(meetings: 1_000 / scale) }),
            ("parse", { try ParserFigures.realisticDay(meetings: 1_000 / scale) }),
            ("storage", { try StorageFigures.walk(files: 200_000 / scale) }),
            ("delivery", { try await DeliveryFigures.throughput(users: 50_000 / scale) }),
            ("fleet", { try await FleetFigures.throughput(records: 96_000 / scale) }),
            ("rsyslog", { try await RsyslogFigures.endToEnd(meetings: 1_000 / scale) }),
            ("delay", { try await DeliveryFigures.delay(records: 2_000 / scale) }),
            ("memory", { try await MemoryFigures.agent(users: 100_000 / scale) }),
            ("billing", { try BillingFigures.month(hosts: 1_000 / scale) }),
        ]
        print("meetmeter-bench\(quick ? " --quick" : ""): \(ProcessInfo.processInfo.activeProcessorCount) cores, \(BenchEnvironment.buildKind) build")
        for (name, run) in sections where only == nil || only == name {
            do {
                for line in try await run() {
                    print("\(name): \(line)")
                    fflush(nil) // a line a figure as soon as it is measured, also into a file or a pipe
                }
            } catch {
                print("\(name): skipped: \(error)")
            }
        }
    }
}

struct BenchSkip: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

enum BenchEnvironment {
    static var buildKind: String {
        #if DEBUG
        "debug (figures are much lower than release; use swift build -c release)"
        #else
        "release"
        #endif
    }

    /// The folder of this executable, where `swift build` put the daemons too.
    static var binaries: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }

    static func binary(_ name: String) throws -> String {
        let path = binaries + "/" + name
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw BenchSkip("\(path) is not built; run swift build -c release first")
        }
        return path
    }

    static func temporaryDirectory(_ name: String) throws -> String {
        let path = NSTemporaryDirectory() + "meetmeter-bench-\(name)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}
