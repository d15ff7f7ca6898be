import NIOSSL

/// TLS towards the aggregator (`[aggregator] tls = true`): the aggregator's certificate is always
/// verified, against `ca_file` or the system's trust store, for `server_name` (default: the
/// address's host). A certificate and key make it mutual TLS: the aggregator can then check that
/// the certificate names this agent's host.
public struct ClientTLSSettings: Sendable, Hashable {
    public var caFile: String?
    public var serverName: String?
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, serverName: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.serverName = serverName
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }

    /// Loads the files. Errors name the file and what is wrong with it.
    public func makeContext() throws(TLSFileError) -> NIOSSLContext {
        var c = TLSConfiguration.makeClientConfiguration()
        c.minimumTLSVersion = .tlsv12
        c.certificateVerification = .fullVerification
        if let caFile {
            c.trustRoots = .certificates(try TLSFiles.certificates(caFile, setting: "ca_file"))
        }
        if let certificateFile, let keyFile {
            c.certificateChain = try TLSFiles.certificates(certificateFile, setting: "certificate_file").map { .certificate($0) }
            c.privateKey = .privateKey(try TLSFiles.privateKey(keyFile, setting: "key_file"))
        }
        do {
            return try NIOSSLContext(configuration: c)
        } catch {
            var e = TLSFileError(file: certificateFile ?? caFile ?? "(system trust store)", message: "\(error)")
            e.setting = certificateFile == nil ? "ca_file" : "certificate_file"
            throw e
        }
    }
}

