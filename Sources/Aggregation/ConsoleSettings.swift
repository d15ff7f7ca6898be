import ConfigFiles
import NIOSSL
import TransportSecurity

/// `[console]` of aggregator.toml: where the read-only HTTP API (and console) is served, under
/// which billing policy it rates, and who may read it. Absent table: not served.
public struct ConsoleSettings: Sendable {
    public var address: NetworkAddress
    /// billing.toml's path, or `preset:NAME`, as `meetmeter report --policy` takes it.
    public var policy: String
    /// Where `policy` was set, for an error about the policy it names.
    public var file: String
    public var policyLine: Int?
    /// Tokens and whom each lets in; at least one.
    public var viewers: [Viewer]
    /// HTTPS with these files (`tls_certificate_file`, `tls_key_file`); nil: plain HTTP.
    public var tls: Located<ServerTLSSettings>?

    public struct Viewer: Sendable, Equatable {
        public enum Scope: Sendable, Equatable {
            /// Sees everything.
            case operator_
            /// Sees only this account's usage and statements.
            case account(String)
        }
        public var scope: Scope
        public var token: String

        public init(scope: Scope, token: String) {
            self.scope = scope
            self.token = token
        }
    }

    init(_ console: ConfigTable) throws(ConfigError) {
        try console.rejectUnknownKeys(allowed: ["address", "policy", "operator_token_file", "accounts", "tls_certificate_file", "tls_key_file"])
        try console.requireBoth("tls_certificate_file", "tls_key_file", "HTTPS needs both tls_certificate_file and tls_key_file")
        if let certificateFile = try console.optionalString("tls_certificate_file"), let keyFile = try console.optionalString("tls_key_file") {
            tls = Located(ServerTLSSettings(certificateFile: certificateFile, keyFile: keyFile), in: console)
        }
        address = try console.address("address", default: "127.0.0.1:7880", allowAnyPort: true)
        policy = try console.string("policy", default: "/etc/meetmeter/billing.toml")
        file = console.file
        policyLine = console.line(of: "policy")
        var viewers: [Viewer] = []
        var holders: [String: String] = [:]
        /// The token in the file `key` names, checked: long enough, and nobody else's.
        func token(_ table: ConfigTable, key: String, who: String) throws(ConfigError) -> String {
            let file = try table.string(key)
            let token: String
            do {
                token = try ConfigDocument.readText(path: file).filter { !$0.isWhitespace }
            } catch {
                throw table.error(key, error.message)
            }
            // Sent in a header and kept in a cookie: printable ASCII, none of the cookie's separators.
            if !token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F && !";,\"\\".unicodeScalars.contains($0) }) {
                throw table.error(key, "\(file): a token is printable ASCII without ; , \" or \\; make one with: head -c 24 /dev/urandom | base64")
            }
            if token.count < 16 {
                throw table.error(key, "\(file): a token must have at least 16 characters; make one with: head -c 24 /dev/urandom | base64")
            }
            if let other = holders[token] {
                throw table.error(key, "\(file): \(who) has the same token as \(other); each needs its own")
            }
            holders[token] = who
            return token
        }
        if console.has("operator_token_file") {
            viewers.append(Viewer(scope: .operator_, token: try token(console, key: "operator_token_file", who: "the operator")))
        }
        var accounts = Set<String>()
        for entry in try console.tables("accounts") {
            try entry.rejectUnknownKeys(allowed: ["account", "token_file"])
            let account = try entry.string("account")
            if !accounts.insert(account).inserted { throw entry.error("account", "'\(account)' is listed twice") }
            viewers.append(Viewer(scope: .account(account), token: try token(entry, key: "token_file", who: "account '\(account)'")))
        }
        if viewers.isEmpty {
            throw console.error("operator_token_file", "the console needs operator_token_file or at least one [[console.accounts]] with a token_file: nobody could read it otherwise")
        }
        self.viewers = viewers
    }
}

extension ConsoleSettings {
    /// The files read and proved to make a TLS context, with errors that name the setting's file,
    /// line and key; nil for plain HTTP.
    public func makeTLSConfiguration() throws(ConfigError) -> TLSConfiguration? {
        guard let tls else { return nil }
        do throws(TLSFileError) {
            _ = try tls.value.makeContext()
            return try tls.value.makeConfiguration()
        } catch {
            throw tls.error(error.setting ?? "tls_certificate_file", error.description)
        }
    }
}
