import Aggregation
import ArgumentParser
import Billing
import Collector
import ConfigFiles

struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check agent.toml, aggregator.toml or billing.toml files and say what is wrong with file, line and key.")

    @Argument(help: "Configuration files; the kind is taken from the file name (agent, aggregator, billing).")
    var files: [String]

    func run() throws {
        var bad = 0
        for file in files {
            let name = file.split(separator: "/").last.map(String.init) ?? file
            do throws(ConfigError) {
                if name.hasPrefix("agent") {
                    _ = try AgentConfiguration.load(path: file).makeTLSContext()
                } else if name.hasPrefix("aggregator") {
                    let c = try AggregatorConfiguration.load(path: file)
                    _ = try c.makeTLSContext()
                    for w in c.warnings { printError("meetmeter: warning: \(w)") }
                } else if name.hasPrefix("billing") {
                    _ = try BillingPolicy.parse(text: try ConfigDocument.readText(path: file), path: file)
                } else {
                    printError("meetmeter: \(file): cannot tell its kind from its name; name it agent.toml, aggregator.toml or billing.toml")
                    bad += 1
                    continue
                }
                print("\(file): OK")
            } catch {
                printError("meetmeter: \(error)")
                bad += 1
            }
        }
        if bad > 0 { throw ExitCode(78) }
    }
}
