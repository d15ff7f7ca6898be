import ArgumentParser
import ConfigFiles
import Observability
import UsageRecords

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Ask the running agent and aggregator whether they keep up, and print their counts.",
        discussion: "Exit status: 0 when every daemon asked answers healthy, 1 when one is behind, 2 when one cannot be reached.")

    @Option(help: "The agent's [metrics] address; empty to skip.")
    var agent = "127.0.0.1:9781"

    @Option(help: "The aggregator's [metrics] address; empty to skip.")
    var aggregator = "127.0.0.1:9782"

    func run() throws {
        var worst: Int32 = 0
        for (name, text) in [("agent", agent), ("aggregator", aggregator)] where !text.isEmpty {
            guard let address = NetworkAddress(text) else {
                throw ValidationError("--\(name) '\(text)' is not HOST:PORT")
            }
            do {
                // The aggregator's answer waits for its store, which may take its whole operation bound.
                let health = try HTTPGet.fetch(host: address.host, port: address.port, path: "/health", timeoutSeconds: 20)
                let metrics = try HTTPGet.fetch(host: address.host, port: address.port, path: "/metrics")
                print("\(name) at \(address): \(StatusRendering.verdict(health.status, health.body))")
                print(StatusRendering.health(health.body), terminator: "")
                print(StatusRendering.counters(HTTPGet.samples(metrics.body), prefix: "meetmeter_\(name)_"), terminator: "")
                if health.status != 200 { worst = max(worst, 1) }
            } catch {
                print("\(name) at \(address): unreachable (\(error))")
                worst = 2
            }
        }
        if worst != 0 { throw ExitCode(worst) }
    }
}

/// The daemons' answers, laid out for a person.
enum StatusRendering {
    /// The headline: keeping up, behind, or (an aggregator) unable to reach its store, which
    /// means that it acknowledges nothing and the agents keep their records meanwhile.
    static func verdict(_ status: Int, _ body: String) -> String {
        if status == 200 { return "keeping up" }
        if let value = try? JSONParser.parse(body), case .object(let o) = value, o["error"] != nil, o["store"] != nil {
            return "NOT STORING: its store does not answer, so it acknowledges nothing (the agents keep their records)"
        }
        return "BEHIND"
    }

    static func health(_ body: String) -> String {
        guard let value = try? JSONParser.parse(body), case .object(let o) = value else {
            return "  (unreadable health answer)\n"
        }
        var out = ""
        for key in o.keys.sorted() where key != "status" {
            let v = o[key] ?? .null
            if case .array(let items) = v {
                out += "  \(key):\n"
                for item in items { out += "    \(item.serialized)\n" }
            } else {
                out += "  \(key): \(v.stringValue ?? v.serialized)\n"
            }
        }
        return out
    }

    static func counters(_ samples: [String: Double], prefix: String) -> String {
        var out = ""
        for key in samples.keys.sorted() where key.hasPrefix(prefix) {
            let v = samples[key] ?? 0
            let shown = v == v.rounded() ? String(Int64(v)) : String(v)
            out += "  \(key.dropFirst(prefix.count)) \(shown)\n"
        }
        return out
    }
}
