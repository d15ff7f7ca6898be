import NIOSSL

/// TLS for agents (`[listen] tls_certificate_file`, `tls_key_file`, `client_ca_file`). With a
/// client CA, agents must present a certificate from it; the listener then checks that it names
/// the host of the agent's hello.
public struct ServerTLSSettings: Sendable, Hashable {
    public var certificateFile: String
    public var keyFile: String
    public var clientCAFile: String?

    public init(certificateFile: String, keyFile: String, clientCAFile: String? = nil) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.clientCAFile = clientCAFile
    }

    public var requiresClientCertificates: Bool { clientCAFile != nil }

    /// Loads the files. Errors name the file, what is wrong with it, and the setting that named it.
    public func makeContext() throws(TLSFileError) -> NIOSSLContext {
        let c = try makeConfiguration()
        do {
            return try NIOSSLContext(configuration: c)
        } catch {
            var e = TLSFileError(file: certificateFile, message: "\(certificateFile) and \(keyFile) do not make a TLS context: \(error)")
            e.setting = "tls_certificate_file"
            throw e
        }
    }

    /// The configuration the files make, for servers that build their own context (the console);
    /// `makeContext` proves that it works.
    public func makeConfiguration() throws(TLSFileError) -> TLSConfiguration {
        let chain = try TLSFiles.certificates(certificateFile, setting: "tls_certificate_file")
        let key = try TLSFiles.privateKey(keyFile, setting: "tls_key_file")
        var c = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        c.minimumTLSVersion = .tlsv12
        if let clientCAFile {
            c.trustRoots = .certificates(try TLSFiles.certificates(clientCAFile, setting: "client_ca_file"))
            c.certificateVerification = .noHostnameVerification
        }
        return c
    }
}
