#if canImport(Glibc)
import Glibc
#endif

/// A blocking HTTP/1.0 GET for `meetmeter status` and tests: enough for our own endpoint on a
/// trusted address, with a timeout on every step.
public enum HTTPGet {
    public struct Response: Sendable {
        public var status: Int
        /// By lowercased name; the last of a repeated one.
        public var headers: [String: String] = [:]
        public var body: String
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func fetch(host: String, port: Int, path: String, headers: [(String, String)] = [],
                             timeoutSeconds: Int = 5) throws(Failure) -> Response {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &info) == 0, let first = info else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(info) }
        let fd = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var tv = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        guard connect(fd, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            throw Failure(description: "cannot connect to \(host):\(port): \(String(cString: strerror(errno)))")
        }
        let extra = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        let request = Array("GET \(path) HTTP/1.0\r\nHost: \(host)\r\nConnection: close\r\n\(extra)\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else {
            throw Failure(description: "cannot send to \(host):\(port)")
        }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw Failure(description: "reading from \(host):\(port): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            data += chunk[0..<n]
            // Whole once the head and as many bytes as it announced are in, whether or not the
            // server closes then.
            if let (bodyStart, length) = Self.announcedLength(data), data.count >= bodyStart + length { break }
        }
        guard let split = (0..<max(0, data.count - 3)).first(where: {
            data[$0] == 13 && data[$0 + 1] == 10 && data[$0 + 2] == 13 && data[$0 + 3] == 10
        }) else { throw Failure(description: "\(host):\(port) sent no HTTP answer") }
        let head = String(decoding: data[..<split], as: UTF8.self)
        let headLines = head.split(separator: "\r\n")
        let statusLine = headLines.first ?? ""
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw Failure(description: "\(host):\(port) sent '\(statusLine)'")
        }
        var fields: [String: String] = [:]
        for line in headLines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].drop(while: { $0 == " " || $0 == "\t" }))
        }
        return Response(status: status, headers: fields, body: String(decoding: data[(split + 4)...], as: UTF8.self))
    }

    /// Where the body starts and the Content-Length the head announced, once the head is in.
    static func announcedLength(_ data: [UInt8]) -> (Int, Int)? {
        guard let split = (0..<max(0, data.count - 3)).first(where: {
            data[$0] == 13 && data[$0 + 1] == 10 && data[$0 + 2] == 13 && data[$0 + 3] == 10
        }) else { return nil }
        for line in String(decoding: data[..<split], as: UTF8.self).split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length",
               let length = Int(parts[1].drop(while: { $0 == " " })) {
                return (split + 4, length)
            }
        }
        return nil
    }

    /// The value of each sample of a Prometheus text answer, by its name with labels as written
    /// (`meetmeter_agent_lines_read_total{source="x"}`).
    public static func samples(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let v = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = v
        }
        return out
    }
}
