// swift-tools-version:6.0
import PackageDescription

// The data flow of DESIGN.md, one module a box (scripts/import-graph.sh prints who imports whom):
//   LogSources ─> LogLines ─> LogParsers ─> UsageRecords ─> Delivery (spool, shipper) ══> Aggregation ─> Billing
//   HostSampling ───────────────────────────┘            Collector wires the agent; the executables are thin.
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
        .package(url: "https://github.com/apple/swift-system", from: "1.4.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
    ],
    targets: [
        // ── C libraries. Only the POSIX seam and the sources import C.
        // libsystemd's sd-journal and sd-daemon.
        .systemLibrary(
            name: "CSystemd",
            pkgConfig: "libsystemd",
            providers: [.apt(["libsystemd-dev"])]
        ),
        // zlib, for reading rotated logs that logrotate or logback compressed (NAME.2.gz), and CRC-32.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // glibc's unions and macros that Swift cannot name portably (siginfo_t, struct sigaction).
        .target(name: "CSystemShim"),

        // ── Shared vocabulary, no I/O.
        // The record vocabulary, the line codec both sides share, and the one line cutter.
        .target(name: "UsageRecords"),
        // TOML configuration files with errors that name the file, line and key. No TLS, no keys.
        .target(name: "ConfigFiles", dependencies: [.product(name: "TOMLKit", package: "TOMLKit")]),
        // PEM files and TLS contexts, loaded when a daemon is wired, never when a file is only read.
        .target(name: "TransportSecurity", dependencies: [.product(name: "NIOSSL", package: "swift-nio-ssl")]),

        // ── The agent, along the data flow of DESIGN.md:
        //    LogSources ─> LogLines ─> LogParsers ─> (records) ─> Delivery; HostSampling beside the sources.
        // The POSIX seam: system calls retried on EINTR with typed errors, descriptors as types,
        // writes that wait for room on a full state disk.
        .target(
            name: "SystemCalls",
            dependencies: [
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        // A line as a source yields it (source, position, time, text) and the byte search parsers use.
        .target(name: "LogLines", dependencies: ["UsageRecords"]),
        // The journal and log files, each yielding lines with a position it can resume from.
        .target(
            name: "LogSources",
            dependencies: [
                "LogLines", "SystemCalls", "UsageRecords", "CSystemd", "CZlib", "CSystemShim",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Lines to usage facts, per meeting software. Pure: no I/O, no clock.
        .target(name: "LogParsers", dependencies: ["LogLines", "UsageRecords"]),
        // Samples of the host: heartbeats and the disk usage of recordings.
        .target(
            name: "HostSampling",
            dependencies: [
                "SystemCalls", "UsageRecords",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The spool on disk and the shipper that empties it into the aggregator.
        .target(
            name: "Delivery",
            dependencies: [
                "SystemCalls", "UsageRecords", "CZlib",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The agent wired from agent.toml: sources → parsers → spool → shipper, as services.
        .target(
            name: "Collector",
            dependencies: [
                "LogSources", "LogLines", "LogParsers", "HostSampling", "Delivery", "SystemCalls",
                "UsageRecords", "ConfigFiles", "TransportSecurity",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // ── The aggregator and billing.
        // Where every record is kept exactly once: SQLite (embedded) or PostgreSQL (a fleet),
        // behind one RecordStore. Nothing outside knows which engine it is.
        .target(
            name: "RecordStorage",
            dependencies: [
                "UsageRecords", "SystemCalls",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // The aggregator's library: listener, configuration, queries.
        .target(
            name: "Aggregation",
            dependencies: [
                "UsageRecords", "ConfigFiles", "TransportSecurity", "RecordStorage",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // Rating: records, policy and period in; quantities and invoice lines out. Pure.
        .target(name: "Billing", dependencies: ["UsageRecords", "ConfigFiles"]),
        // A stored period rated: the evidence a statement needs, read from the store, for
        // `meetmeter report --policy` and the console alike.
        .target(name: "Statements", dependencies: ["Billing", "RecordStorage", "UsageRecords"]),
        // The aggregator's read-only HTTP API under /api/v1/ (aggregator.toml's [console]), with
        // its tokens; served beside the listener.
        .target(
            name: "Console",
            dependencies: [
                "Aggregation", "Billing", "Statements", "RecordStorage", "UsageRecords", "ConfigFiles",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // ── Both daemons.
        // sd_notify and a swift-log handler for the journal.
        .target(
            name: "SystemdIntegration",
            dependencies: [
                "CSystemd", .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
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

        // ── Thin executables: arguments, configuration, lifecycle, wiring.
        .executableTarget(
            name: "meetmeter-agent",
            dependencies: [
                "SystemdIntegration", "Observability",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                "Collector", "Delivery", "UsageRecords", "ConfigFiles",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "meetmeter-aggregator",
            dependencies: [
                "SystemdIntegration", "Observability",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "Aggregation", "RecordStorage", "UsageRecords", "ConfigFiles", "Console", "Billing",
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "meetmeter",
            dependencies: [
                "Collector", "LogSources", "LogLines", "LogParsers", "HostSampling", "SystemCalls", "Aggregation", "RecordStorage", "Billing",
                "Statements", "UsageRecords", "Observability", "ConfigFiles",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // ── Benchmarks: synthetic workloads and baselines, linked by no daemon.
        .target(
            name: "Workloads",
            dependencies: [
                "LogSources", "LogLines", "LogParsers", "HostSampling", "SystemCalls", "UsageRecords", "CSystemd",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Every benchmark of the project, one line a figure, each against a baseline in the same run.
        .executableTarget(
            name: "meetmeter-bench",
            dependencies: [
                "Workloads", "Collector", "LogSources", "LogLines", "LogParsers", "HostSampling", "Delivery",
                "Aggregation", "RecordStorage", "Billing", "UsageRecords",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        .testTarget(name: "UsageRecordsTests", dependencies: ["UsageRecords"]),
        .testTarget(name: "ConfigFilesTests", dependencies: ["ConfigFiles"]),
        // Shared by the test targets: heavy tests compute, and blocking waits happen, on threads
        // of their own instead of the cooperative pool.
        .target(name: "TestThreads", path: "Tests/TestThreads"),
        // A PostgreSQL server of the tests' own (initdb, pg_ctl on a free loopback port), for a suite.
        .target(name: "TestPostgres", dependencies: ["Workloads", "RecordStorage"], path: "Tests/TestPostgres"),
        .testTarget(name: "CollectorTests", dependencies: [
            "Collector", "LogSources", "LogLines", "LogParsers", "HostSampling", "Delivery", "SystemCalls",
            "Workloads", "UsageRecords", "TestThreads", "CSystemd", "ConfigFiles",
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // The shipper's protocol state machine, alone and against the aggregator's AgentSession.
        .testTarget(name: "DeliveryTests", dependencies: [
            "Delivery", "Aggregation", "RecordStorage", "SystemCalls", "UsageRecords",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
        ]),
        // Both engines against one contract, on a real SQLite file and a real PostgreSQL server.
        .testTarget(name: "RecordStorageTests", dependencies: [
            "RecordStorage", "UsageRecords", "TestPostgres", "Aggregation", "ConfigFiles",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // GRDB: the write-ahead-log test holds read transactions of its own, as another process would.
        .testTarget(name: "AggregationTests", dependencies: ["Aggregation", "RecordStorage", "UsageRecords", "TestThreads",
                                                           .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "BillingTests", dependencies: ["Billing", "Workloads", "UsageRecords", "ConfigFiles", "TestThreads"]),
        // The libFuzzer targets of Fuzz/ (their file is shared by a link), replayed briefly.
        .testTarget(name: "FuzzReplayTests", dependencies: [
            "UsageRecords", "LogSources", "LogLines", "LogParsers", "Aggregation", "RecordStorage", "Billing", "ConfigFiles",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        // Runs the built executables against each other over real TCP and a real SQLite file.
        .testTarget(name: "EndToEndTests", dependencies: [
            "UsageRecords", "Collector", "LogSources", "LogLines", "LogParsers", "Delivery", "Workloads",
            "Aggregation", "RecordStorage", "Billing", "Observability", "TestThreads", "TestPostgres",
            .product(name: "Logging", package: "swift-log"),
        ]),
    ]
)
