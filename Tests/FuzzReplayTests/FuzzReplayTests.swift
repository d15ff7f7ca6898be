import Foundation
import Testing

/// The libFuzzer targets (Fuzz/, scripts/fuzz.sh) run briefly in the suite, without the
/// sanitizer: every input libFuzzer once found failing (Fuzz/found/), each seed of the corpus
/// fuzz.sh builds, and a few hundred deterministic mutations of those seeds per target. A broken
/// property aborts the test process with "fuzz property violated" and the input's name on
/// standard error, as it does under libFuzzer; Swift's own traps (bounds, overflow) do the same.
@Suite struct FuzzReplayTests {
    /// Mutations per target; the full runs (10⁶ inputs a target) are scripts/fuzz.sh's.
    static let mutationsPerTarget = 400

    static let repository: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    static var targetNames: [String] { FuzzTargets.all.keys.sorted() }

    @Test(arguments: targetNames)
    func eachTargetHoldsOnItsFoundInputsSeedsAndMutations(target: String) throws {
        let run = try #require(FuzzTargets.all[target])
        let found = Self.found(for: target)
        let seeds = Self.seeds(for: target)
        var generator = SplitMix(seed: UInt64(truncatingIfNeeded: target.utf8.reduce(5381) { ($0 &* 33) &+ Int($1) }))
        var count = 0
        func feed(_ name: String, _ bytes: [UInt8]) {
            FuzzReplay.$current.withValue("\(target) \(name)") {
                bytes.withUnsafeBytes { run($0) }
            }
            count += 1
        }
        for (name, bytes) in found { feed(name, bytes) }
        for (name, bytes) in seeds { feed(name, bytes) }
        let pool = seeds.isEmpty ? [("empty", [UInt8]())] : seeds
        for n in 0..<Self.mutationsPerTarget {
            let (name, base) = pool[Int(generator.next() % UInt64(pool.count))]
            let other = pool[Int(generator.next() % UInt64(pool.count))].1
            feed("mutation \(n) of \(name)", Mutator.mutate(base, splice: other, max: Self.maxLength(target), using: &generator))
        }
        print("fuzz replay \(target): \(found.count) found, \(seeds.count) seeds, \(count) inputs in all")
        #expect(count >= Self.mutationsPerTarget)
    }

    /// As fuzz.sh's -max_len.
    static func maxLength(_ target: String) -> Int {
        switch target {
        case "line-frame", "stream-lines": 65_536
        case "config": 8192
        default: 4096
        }
    }

    /// Fuzz/found/TARGET-*: inputs that once broke the target, kept as regression cases.
    static func found(for target: String) -> [(String, [UInt8])] {
        let folder = repository + "/Fuzz/found"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        let kinds = ["crash-", "leak-", "timeout-", "oom-", "slow-unit-"]
        return names.filter { name in kinds.contains { name.hasPrefix(target + "-" + $0) } }.sorted().compactMap { name in
            FileManager.default.contents(atPath: folder + "/" + name).map { (name, Array($0)) }
        }
    }

    /// The seeds fuzz.sh makes for `target`: whole excerpts and single lines of the real logs
    /// and samples/ for the line targets (with each target's leading parameter bytes), the
    /// shipped configuration for `config`, a few hand-made lines for the codec and the wire.
    static func seeds(for target: String) -> [(String, [UInt8])] {
        var seeds: [(String, [UInt8])] = []
        switch target {
        case "bbb", "bbb-prefilter", "jitsi", "auto", "rules", "line-frame", "stream-lines", "timestamp":
            for file in logFiles() {
                guard let data = FileManager.default.contents(atPath: file) else { continue }
                let base = (file as NSString).lastPathComponent
                let bytes = Array(data)
                switch target {
                case "line-frame": seeds.append(("file \(base)", [0xFF, 0x10] + bytes.prefix(65_000)))
                case "stream-lines": seeds.append(("file \(base)", [0xFF] + bytes.prefix(60_000)))
                case "timestamp": break
                case "auto": seeds.append(("file \(base)", [0] + bytes.prefix(4000)))
                default: seeds.append(("file \(base)", Array(bytes.prefix(4000))))
                }
                guard target != "line-frame", target != "stream-lines" else { continue }
                for (n, line) in bytes.split(separator: 0x0A).prefix(40).enumerated() where line.count <= 4000 {
                    switch target {
                    case "timestamp": seeds.append(("line \(n + 1) of \(base)", Array(line.prefix(60))))
                    case "auto": seeds.append(("line \(n + 1) of \(base)", [0] + line))
                    default: seeds.append(("line \(n + 1) of \(base)", Array(line)))
                    }
                }
            }
        case "config":
            let folder = repository + "/etc/meetmeter"
            for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted() where name.hasSuffix(".toml") {
                if let data = FileManager.default.contents(atPath: folder + "/" + name) { seeds.append((name, Array(data))) }
            }
        case "record-codec", "json", "json-pick":
            seeds = [
                #"{"v":1,"id":"bbb1:meeting.started:abc","kind":"meeting.started","time":"2026-11-20T10:00:00.000000Z","host":"bbb1","meeting":"m1","name":"Stra\u00dfe \"q\" \\ x"}"#,
                #"{"a":[1,2.5e3,-0,true,null,{"b":{"c":"\ud83d\ude00"}}],"envelope":{"name":"UserJoinedMeetingEvtMsg"}}"#,
                #"{"core":{"body":{"userId":"w_1"}},"a":"x"}"#,
            ].map { ($0, Array($0.utf8)) }
        case "wire":
            seeds = [
                #"{"hello":"meetmeter","version":1,"host":"bbb1","token":"0123456789abcdef0"}"#,
                #"{"ack":"bbb1:x","status":"stored"}"#,
                #"{"ack":"bbb1:x","status":"duplicate","code":"conflict"}"#,
                #"{"fatal":"busy","error":"try again later"}"#,
            ].map { ($0, Array($0.utf8)) }
        default:
            break
        }
        return seeds
    }

    /// The real excerpts (../shared/data/logs, or $MEETMETER_LOG_EXCERPTS) and samples/.
    static func logFiles() -> [String] {
        let excerpts = ProcessInfo.processInfo.environment["MEETMETER_LOG_EXCERPTS"]
            ?? (URL(fileURLWithPath: repository).deletingLastPathComponent().path + "/shared/data/logs")
        var files: [String] = []
        for root in [excerpts, repository + "/samples"] {
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            for case let path as String in walker where path.hasSuffix(".log") || path.hasSuffix(".jsonl") {
                files.append(root + "/" + path)
            }
        }
        return files.sorted()
    }
}

/// Small, repeatable mutations in the spirit of libFuzzer's: byte flips, interesting bytes,
/// deletions, duplications and splices of another seed.
enum Mutator {
    static let interesting: [[UInt8]] = [[0x22], [0x5C], [0x0A], [0x0D, 0x0A], [0x7B], [0x7D], [0x00], [0xFF], [0xD8],
                                         [0xE2, 0x80], Array("\\u0000".utf8), Array("\\ud800".utf8), Array("9999".utf8),
                                         Array("+99:00".utf8), Array(#"":""#.utf8), Array("-- analytics -- ".utf8)]

    static func mutate(_ input: [UInt8], splice other: [UInt8], max: Int, using g: inout SplitMix) -> [UInt8] {
        var b = input
        for _ in 0..<(1 + Int(g.next() % 4)) {
            let at = b.isEmpty ? 0 : Int(g.next() % UInt64(b.count + 1))
            switch g.next() % 6 {
            case 0 where !b.isEmpty && at < b.count: b[at] ^= UInt8(truncatingIfNeeded: 1 << (g.next() % 8))
            case 1: b.insert(contentsOf: interesting[Int(g.next() % UInt64(interesting.count))], at: at)
            case 2 where at < b.count: b.removeSubrange(at..<min(b.count, at + 1 + Int(g.next() % 16)))
            case 3 where at < b.count:
                let piece = b[at..<min(b.count, at + 1 + Int(g.next() % 64))]
                b.insert(contentsOf: Array(piece), at: at)
            case 4 where !other.isEmpty:
                let from = Int(g.next() % UInt64(other.count))
                b.insert(contentsOf: other[from..<min(other.count, from + 1 + Int(g.next() % 200))], at: at)
            default: b = Array(b.prefix(at))
            }
        }
        return Array(b.prefix(max))
    }
}

/// A fixed-seed generator, so that a failing mutation is the same on every run.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
