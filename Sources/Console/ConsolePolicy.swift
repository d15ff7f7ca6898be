import Aggregation
import Billing
import ConfigFiles

/// The billing policy `[console] policy` names: billing.toml's path, or `preset:NAME`. Read at
/// start: a policy that does not parse stops the aggregator with the file, line and key.
public enum ConsolePolicy {
    public static func load(_ settings: ConsoleSettings) throws(ConfigError) -> BillingPolicy {
        let name = settings.policy
        if name.hasPrefix("preset:") {
            let preset = String(name.dropFirst("preset:".count))
            guard let found = PolicyPreset(rawValue: preset) else {
                throw ConfigError(file: settings.file, line: settings.policyLine, key: "console.policy",
                                  message: "no preset '\(preset)'; presets: \(PolicyPreset.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return BillingPolicy.preset(found)
        }
        let text: String
        do {
            text = try ConfigDocument.readText(path: name)
        } catch {
            throw ConfigError(file: settings.file, line: settings.policyLine, key: "console.policy", message: "\(name): \(error.message)")
        }
        return try BillingPolicy.parse(text: text, path: name)
    }
}
