// swift-tools-version:6.0
import PackageDescription

// The data flow of DESIGN.md, one module a box:
// CSystemd (C) -> Collector (agent) -> UsageRecords (shared vocabulary) <- Aggregation (aggregator) -> Billing (pure)
let package = Package(
    name: "meetmeter",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "meetmeter-agent", targets: ["meetmeter-agent"]),
        .executable(name: "meetmeter-aggregator", targets: ["meetmeter-aggregator"]),
        .executable(name: "meetmeter", targets: ["meetmeter"]),
        .executable(name: "meetmeter-bench", targets: ["meetmeter-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.1.0"),
    ],
    targets: [
        // The C targets: libsystemd's sd-journal and sd-daemon, and zlib.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // zlib, for reading rotated logs that logrotate or logback compressed (NAME.2.gz).
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // sd_notify and a swift-log handler for the journal, shared by both daemons.
        .target(
            name: "SystemdIntegration",
            dependencies: [
                "CSystemd", .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The record vocabulary and the line codec both sides share. No I/O.
        .target(name: "UsageRecords"),
        // TOML configuration files with errors that name the file, line and key.
        .target(
            name: "ConfigFiles",
            dependencies: [
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The agent's library: sources, parsers, spool, shipper.
        .target(
            name: "Collector",
            dependencies: [
                "UsageRecords", "ConfigFiles", "CSystemd", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The aggregator's library: listener, store, queries.
        .target(
            name: "Aggregation",
            dependencies: [
                "UsageRecords", "ConfigFiles",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Prometheus metrics and a health answer over HTTP, for both daemons and `meetmeter status`.
        .target(
            name: "Observability",
            dependencies: [
                "UsageRecords",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Rating: records, policy and period in; quantities and invoice lines out. Pure.
        .target(name: "Billing", dependencies: ["UsageRecords", "ConfigFiles"]),

        .executableTarget(
            name: "meetmeter-agent",
            dependencies: [
                "SystemdIntegration", "Observability",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "Collector", "UsageRecords",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "meetmeter-aggregator",
            dependencies: [
                "SystemdIntegration", "Observability",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "Aggregation", "UsageRecords",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "meetmeter",
            dependencies: [
                "Collector", "Aggregation", "Billing", "UsageRecords", "Observability", "ConfigFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Every benchmark of the project, one line a figure, each against a baseline in the same run.
        .executableTarget(
            name: "meetmeter-bench",
            dependencies: [
                "Collector", "Aggregation", "Billing", "UsageRecords",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "UsageRecordsTests", dependencies: ["UsageRecords"]),
        .testTarget(name: "ConfigFilesTests", dependencies: ["ConfigFiles"]),
        // Shared by the test targets: heavy tests compute, and blocking waits happen, on threads
        // of their own instead of the cooperative pool.
        .target(name: "TestThreads", path: "Tests/TestThreads"),
        .testTarget(name: "CollectorTests", dependencies: ["Collector", "UsageRecords", "TestThreads"]),
        // GRDB: the write-ahead-log test holds read transactions of its own, as another process would.
        .testTarget(name: "AggregationTests", dependencies: ["Aggregation", "UsageRecords", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "BillingTests", dependencies: ["Billing", "UsageRecords", "ConfigFiles", "TestThreads"]),
        // Runs the built executables against each other over real TCP and a real SQLite file.
        // The libFuzzer targets of Fuzz/ (their file is shared by a link), replayed briefly.
        .testTarget(name: "FuzzReplayTests", dependencies: [
            "UsageRecords", "Collector", "Aggregation", "Billing", "ConfigFiles",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        .testTarget(name: "EndToEndTests", dependencies: ["UsageRecords", "Collector", "Aggregation", "Billing", "Observability", "TestThreads"]),
    ]
)
