import Delivery
import Foundation
import Logging
import RecordStorage
import SystemCalls
import UsageRecords
import Workloads

/// Issue 16: records per second into the store through a real `meetmeter-aggregator`, from 1, 16
/// and 64 agents shipping at once (the agents' own spools and shippers, in this process), on
/// SQLite and on PostgreSQL. Each engine's baseline is the same rows written raw in the same run:
/// SQLite, inserted in one process in transactions of 5,000 (the store's copy path); PostgreSQL,
/// `COPY` through psql into a fresh database with the same schema and indexes.
enum FleetFigures {
    static let agentCounts = [1, 16, 64]

    enum Engine: String, CaseIterable {
        case sqlite, postgresql
    }

    static func throughput(records: Int) async throws -> [String] {
        var lines: [String] = []
        var logger = Logger(label: "meetmeter.bench.fleet")
        logger.logLevel = .error
        let server: PostgresServer? = PostgresServer.available ? try PostgresServer(durable: true) : nil
        defer { server?.remove() }
        for engine in Engine.allCases {
            if engine == .postgresql && server == nil {
                lines.append("postgresql: skipped: \(PostgresServer.unavailableText)")
                continue
            }
            var lastStore: StoreLocation?
            var rates: [(agents: Int, rate: Double)] = []
            var memory: [String] = []
            for agents in agentCounts {
                let run = try Run(engine: engine, server: server, agents: agents, logger: logger)
                defer { run.stop() }
                let seconds = try await run.ship(records: records)
                let stored = try await RecordStores.withStore(run.location, readOnly: true, logger: logger) { try await $0.count() }
                guard stored == records else { throw BenchSkip("\(engine) with \(agents) agents: the store holds \(stored) of \(records) records") }
                rates.append((agents, Double(records) / seconds))
                memory.append("\(engine), \(agents) agent\(agents == 1 ? "" : "s"): aggregator resident memory at most \(run.peakMemoryKiB.whole / 1024) MiB, its own (anonymous) \(run.peakMemoryKiB.own / 1024) MiB")
                lastStore = run.location
                run.keepStore = agents == agentCounts.last
            }
            guard let lastStore else { continue }
            let baseline = try await rawRate(engine, from: lastStore, server: server, logger: logger)
            for (agents, rate) in rates {
                lines.append(Figure(what: "\(engine), \(agents) agent\(agents == 1 ? "" : "s"), \(records) records through the aggregator",
                                    ours: rate, baseline: baseline, baselineName: baselineName(engine), unit: "records/s").line)
            }
            lines += memory
            if case .sqlite(let path) = lastStore { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
        }
        return lines
    }

    static func baselineName(_ engine: Engine) -> String {
        switch engine {
        case .sqlite: "the same rows inserted raw, 5,000 a transaction"
        case .postgresql: "the same rows by COPY through psql"
        }
    }

    /// The rows the runs stored, written again as fast as the engine takes them.
    static func rawRate(_ engine: Engine, from location: StoreLocation, server: PostgresServer?, logger: Logger) async throws -> Double {
        let rows = try await RecordStores.withStore(location, readOnly: true, logger: logger) { store in
            var all: [RecordRow] = []
            while true {
                let page = try await store.rows(after: all.last?.id, limit: 20_000)
                if page.isEmpty { break }
                all += page
            }
            return all
        }
        switch engine {
        case .sqlite:
            let dir = try BenchEnvironment.temporaryDirectory("fleet-raw")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let target = StoreLocation.sqlite(path: dir + "/raw.sqlite")
            return try await RecordStores.withStore(target, logger: logger) { store in
                let seconds = try await Measure.asyncSeconds(repeats: 1) {
                    var i = 0
                    while i < rows.count {
                        _ = try await store.insert(rows: Array(rows[i..<min(i + 5_000, rows.count)]))
                        i += 5_000
                    }
                }
                return Double(rows.count) / seconds
            }
        case .postgresql:
            guard let server else { throw BenchSkip(PostgresServer.unavailableText) }
            let url = try server.createDatabase()
            let target = StoreLocation.postgresql(try PostgresAddress(url: url, passwordFile: server.passwordFile))
            // The schema (and its indexes) made as the aggregator makes it, then the rows by COPY.
            _ = try await RecordStores.withStore(target, logger: logger) { try await $0.count() }
            let dir = try BenchEnvironment.temporaryDirectory("fleet-copy")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let file = dir + "/records.csv"
            try csv(rows).write(toFile: file, atomically: true, encoding: .utf8)
            let database = String(url.split(separator: "/").last?.split(separator: "?").first ?? "")
            let seconds = try Measure.seconds(repeats: 1) {
                try server.psql(database, "\\copy records (id, kind, time_us, host, meeting, received_us, line) FROM '\(file)' WITH (FORMAT csv)")
            }
            return Double(rows.count) / seconds
        }
    }

    static func csv(_ rows: [RecordRow]) -> String {
        func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        var out = ""
        out.reserveCapacity(rows.count * 200)
        for r in rows {
            out += [quoted(r.id), quoted(r.kind), String(r.time), quoted(r.host), r.meeting.map(quoted) ?? "",
                    String(r.received), quoted(r.line)].joined(separator: ",")
            out += "\n"
        }
        return out
    }

    /// One aggregator on a store of its own, and `agents` spools waiting to be shipped to it.
    final class Run: @unchecked Sendable {
        let dir: String
        let port: Int
        let location: StoreLocation
        let aggregator: Process
        let agents: Int
        let logger: Logger
        var keepStore = false

        init(engine: Engine, server: PostgresServer?, agents: Int, logger: Logger) throws {
            dir = try BenchEnvironment.temporaryDirectory("fleet-\(engine)-\(agents)")
            port = try DeliveryFigures.freePort()
            self.agents = agents
            self.logger = logger
            let store: String
            switch engine {
            case .sqlite:
                location = .sqlite(path: dir + "/store.sqlite")
                store = "path = \"\(dir)/store.sqlite\""
            case .postgresql:
                guard let server else { throw BenchSkip(PostgresServer.unavailableText) }
                let url = try server.createDatabase()
                location = .postgresql(try PostgresAddress(url: url, passwordFile: server.passwordFile))
                store = "url = \"\(url)\"\npassword_file = \"\(server.passwordFile)\""
            }
            aggregator = try DeliveryFigures.startAggregator(dir: dir, port: port, store: store)
        }

        /// Fills the spools with `records` in all (their share each), then times all shippers
        /// draining them at once.
        func ship(records: Int) async throws -> Double {
            let time = Timestamp(rfc3339: "2026-11-16T09:00:00Z")!
            var spools: [(host: String, spool: Spool)] = []
            for a in 0..<agents {
                let host = "bench-a\(a)"
                let spool = try Spool(configuration: SpoolConfiguration(directory: dir + "/spool-\(a)", maxBytes: 1 << 30), logger: logger)
                let share = records / agents + (a < records % agents ? 1 : 0)
                var i = 0
                while i < share {
                    let batch = (i..<min(i + 1_000, share)).map { n in
                        UsageRecord(id: RecordID(rawValue: "\(host):fleet:\(n)"), time: Timestamp(microseconds: time.microseconds + Int64(n) * 1_000),
                                    host: host, payload: .userJoined(UserJoined(meeting: "m\(n / 100)", user: "w_\(n)", role: "VIEWER", client: "HTML5")))
                    }
                    try await spool.append(batch)
                    i += batch.count
                }
                spools.append((host, spool))
            }
            let port = self.port
            let logger = self.logger
            // The aggregator's resident memory, sampled while it takes the records in.
            let pid = aggregator.processIdentifier
            let sampler = Task {
                var peak = (whole: 0, own: 0)
                while !Task.isCancelled {
                    peak = (max(peak.whole, Measure.residentKiB(pid: pid) ?? 0), max(peak.own, Measure.anonymousKiB(pid: pid) ?? 0))
                    try? await Task.sleep(for: .milliseconds(20))
                }
                return peak
            }
            defer { sampler.cancel() }
            let seconds = try await Measure.asyncSeconds(repeats: 1) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (host, spool) in spools {
                        group.addTask {
                            let c = ShipperConfiguration(host: "127.0.0.1", port: port, agentHost: host, token: nil)
                            let finish = Latch()
                            finish.open()
                            try await Shipper(configuration: c, spool: spool, logger: logger).run(finish: finish, finishing: .whenSpoolEmpty)
                        }
                    }
                    try await group.waitForAll()
                }
            }
            sampler.cancel()
            peakMemoryKiB = await sampler.value
            return seconds
        }

        /// The aggregator's peak resident size, whole and its own (anonymous), in the last `ship`.
        var peakMemoryKiB = (whole: 0, own: 0)

        func stop() {
            aggregator.terminate()
            aggregator.waitUntilExit()
            if !keepStore { try? FileManager.default.removeItem(atPath: dir) }
        }
    }
}
