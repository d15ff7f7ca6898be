import UsageRecords

/// How a meeting, recording or host is mapped to the customer account that pays for it.
///
/// Tried in order: the meeting's metadata keys, the patterns on its external id, the host's own
/// account, then the fallback. A breakout room belongs to its parent's account.
public struct AccountRules: Sendable, Hashable {
    /// Metadata keys whose value names the account (`meta_tenant`), tried in order.
    public var metaKeys: [String]
    /// Patterns on the meeting's external id, tried in order.
    public var external: [ExternalPattern]
    /// A host's own account: for its instance time, and for meetings nothing else maps.
    public var hosts: [String: String]
    public var fallback: String

    public init(metaKeys: [String] = ["meta_tenant", "tenant"], external: [ExternalPattern] = [],
                hosts: [String: String] = [:], fallback: String = "unassigned") {
        self.metaKeys = metaKeys
        self.external = external
        self.hosts = hosts
        self.fallback = fallback
    }

    public func account(meta: [String: JSONValue], external id: String?, host: String?) -> String {
        for key in metaKeys {
            if let value = meta[key]?.stringValue, !value.isEmpty { return value }
        }
        if let id {
            for rule in external {
                if let account = rule.account(for: id) { return account }
            }
        }
        return account(host: host)
    }

    public func account(host: String?) -> String {
        if let host, let account = hosts[host] { return account }
        return fallback
    }
}

/// `pattern` is a glob on the external id: `*` any run of characters, `?` one character, anything
/// else itself. `account` is the account's name, where `{1}`, `{2}`, … stand for what the first,
/// second, … wildcard matched: pattern `*:*` with account `{1}` maps `acme:room-7` to `acme`.
public struct ExternalPattern: Sendable, Hashable {
    public var pattern: String
    public var account: String

    public init(pattern: String, account: String) {
        self.pattern = pattern
        self.account = account
    }

    public func account(for id: String) -> String? {
        guard let captures = Glob.match(Array(pattern), Array(id)) else { return nil }
        var out = account
        for (i, c) in captures.enumerated().reversed() { out = out.replacing("{\(i + 1)}", with: c) }
        return out.isEmpty ? nil : out
    }
}

/// A small glob matcher with captures; patterns are short, so backtracking is fine.
enum Glob {
    static func match(_ p: [Character], _ s: [Character]) -> [String]? {
        var captures: [String] = []
        return step(p[...], s[...], &captures) ? captures : nil
    }

    private static func step(_ p: ArraySlice<Character>, _ s: ArraySlice<Character>, _ captures: inout [String]) -> Bool {
        guard let first = p.first else { return s.isEmpty }
        switch first {
        case "*":
            // Shortest match first, so that `*:*` splits at the first colon.
            for n in 0...s.count {
                captures.append(String(s.prefix(n)))
                if step(p.dropFirst(), s.dropFirst(n), &captures) { return true }
                captures.removeLast()
            }
            return false
        case "?":
            guard let c = s.first else { return false }
            captures.append(String(c))
            if step(p.dropFirst(), s.dropFirst(), &captures) { return true }
            captures.removeLast()
            return false
        default:
            guard s.first == first else { return false }
            return step(p.dropFirst(), s.dropFirst(), &captures)
        }
    }
}
