import NIOSSL

/// A certificate or key file that cannot be used.
public struct TLSFileError: Error, Sendable, CustomStringConvertible {
    public var file: String
    public var message: String
    /// The configuration key that named the file, when the caller knows it.
    public var setting: String?
    public var description: String { "\(file): \(message)" }

    public init(file: String, message: String, setting: String? = nil) {
        self.file = file
        self.message = message
        self.setting = setting
    }
}

/// PEM files, loaded with errors that name them.
public enum TLSFiles {
    public static func certificates(_ path: String, setting: String? = nil) throws(TLSFileError) -> [NIOSSLCertificate] {
        let list: [NIOSSLCertificate]
        do {
            list = try NIOSSLCertificate.fromPEMFile(path)
        } catch {
            throw TLSFileError(file: path, message: "cannot read PEM certificates: \(error)", setting: setting)
        }
        if list.isEmpty { throw TLSFileError(file: path, message: "holds no PEM certificate", setting: setting) }
        return list
    }

    public static func privateKey(_ path: String, setting: String? = nil) throws(TLSFileError) -> NIOSSLPrivateKey {
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw TLSFileError(file: path, message: "cannot read a PEM private key: \(error)", setting: setting)
        }
    }

    /// The DNS names a certificate is for (subject alternative names), lower-cased.
    public static func dnsNames(_ certificate: NIOSSLCertificate) -> [String] {
        certificate._subjectAlternativeNames().compactMap { name in
            guard name.nameType == .dnsName else { return nil }
            return name.contents.withUnsafeBufferPointer { String(decoding: $0, as: UTF8.self) }.lowercased()
        }
    }
}
