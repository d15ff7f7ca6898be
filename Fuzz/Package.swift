// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for meetmeter (scripts/fuzz.sh builds and runs them; README "Fuzzing").
//
// A package of its own so that the main build never sees the sanitizer flags or the fuzz
// driver: the daemons link none of this. The modules under test are compiled from the main
// package's own source folders (symlinked under Sources/), with only the files these targets
// need, so the sanitizer build does not have to build BoringSSL, SQLite or the journal.
// Only our modules get `-sanitize=fuzzer,address` (coverage and ASan); dependencies do not.
// Built in release (scripts/fuzz.sh) for speed, with -enable-testing so that the targets may
// reach internal parts (@testable import).
let fuzzed: [SwiftSetting] = [.unsafeFlags(["-sanitize=fuzzer,address", "-enable-testing"])]

let package = Package(
    name: "meetmeter-fuzz",
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
    ],
    targets: [
        .target(name: "UsageRecords", swiftSettings: fuzzed),
        // The line type and the byte search parsers use; the parsers; the stream line cutter with
        // the system calls it reads through: no I/O beyond read(2).
        .target(name: "LogLines", dependencies: ["UsageRecords"], swiftSettings: fuzzed),
        .target(name: "LogParsers", dependencies: ["LogLines", "UsageRecords"], swiftSettings: fuzzed),
        .target(
            name: "SystemCalls", dependencies: [.product(name: "SystemPackage", package: "swift-system")],
            sources: ["SystemCall.swift", "PosixFile.swift"],
            swiftSettings: fuzzed
        ),
        .target(
            name: "LogSources", dependencies: ["LogLines", "SystemCalls", "UsageRecords"],
            sources: ["Streams"],
            swiftSettings: fuzzed
        ),
        // The aggregator's line framing only.
        .target(
            name: "Aggregation", dependencies: [.product(name: "NIOCore", package: "swift-nio")],
            sources: ["LineFrameDecoder.swift"],
            swiftSettings: fuzzed
        ),
        // TOML reading with file/line/key errors.
        .target(
            name: "ConfigFiles", dependencies: [.product(name: "TOMLKit", package: "TOMLKit")],
            swiftSettings: fuzzed
        ),
        .target(name: "Billing", dependencies: ["UsageRecords", "ConfigFiles"], swiftSettings: fuzzed),
        // The driver: a main of its own that hands libFuzzer the chosen target's callback, so
        // that libFuzzer's own main (which SwiftPM's entry point renaming clashes with) is not linked.
        .executableTarget(
            name: "meetmeter-fuzz",
            dependencies: [
                "UsageRecords", "LogLines", "LogParsers", "LogSources", "Aggregation", "ConfigFiles", "Billing",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            swiftSettings: fuzzed,
            // scripts/fuzz.sh adds the toolchain's libclang_rt.fuzzer_no_main archive (-Xlinker).
            linkerSettings: [.unsafeFlags(["-sanitize=address", "-lstdc++"])]
        ),
    ]
)
