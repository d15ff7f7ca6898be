import Foundation
import Synchronization

/// A TCP relay on 127.0.0.1 between an agent and the aggregator that cuts each connection after
/// a random number of bytes (in either direction, so mid-batch and mid-acknowledgements), a given
/// number of times, then relays faithfully. Blocking sockets on threads of its own.
final class CuttingProxy: @unchecked Sendable {
    let port: Int
    private let upstream: Int
    private let listener: Int32
    private let cutsLeft: Mutex<Int>
    let cutsMade = Atomic<Int>(0)
    private let stopped = Atomic<Bool>(false)

    init(upstream: Int, cuts: Int) throws {
        self.upstream = upstream
        self.cutsLeft = Mutex(cuts)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, len) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &len) == 0
            }
        }
        guard ok else { close(fd); throw HarnessError("the proxy cannot listen") }
        listener = fd
        port = Int(UInt16(bigEndian: addr.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    private func acceptLoop() {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            if client < 0 { return }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var addr = sockaddr_in()
            addr.sin_family = sa_family_t(AF_INET)
            addr.sin_port = in_port_t(UInt16(upstream).bigEndian)
            addr.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &addr) { p in
                p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
            }
            if !connected { close(client); close(server); continue }
            // This connection dies after `limit` bytes in total, if cuts are left.
            let limit: Int? = cutsLeft.withLock { left in
                guard left > 0 else { return nil }
                left -= 1
                return Int.random(in: 200...60_000)
            }
            let relayed = Atomic<Int>(0)
            let pair = SocketPair(client: client, server: server)
            for (from, to) in [(client, server), (server, client)] {
                Thread { [self] in
                    var buffer = [UInt8](repeating: 0, count: 4096)
                    while true {
                        let n = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
                        if n <= 0 { break }
                        let total = relayed.add(n, ordering: .relaxed).newValue
                        if let limit, total >= limit {
                            // Forward part of it, then cut both ways at once.
                            let part = max(0, n - (total - limit))
                            _ = buffer.withUnsafeBytes { send(to, $0.baseAddress, part, Int32(MSG_NOSIGNAL)) }
                            cutsMade.add(1, ordering: .relaxed)
                            pair.cut()
                            break
                        }
                        var sent = 0
                        while sent < n {
                            let m = buffer.withUnsafeBytes { send(to, $0.baseAddress! + sent, n - sent, Int32(MSG_NOSIGNAL)) }
                            if m <= 0 { break }
                            sent += m
                        }
                        if sent < n { break }
                    }
                    pair.finish()
                }.start()
            }
        }
    }
}

/// Both ends of one relayed connection, closed once when both directions are done.
final class SocketPair: Sendable {
    let client: Int32
    let server: Int32
    private let done = Atomic<Int>(0)

    init(client: Int32, server: Int32) {
        self.client = client
        self.server = server
    }

    func cut() {
        shutdown(client, Int32(SHUT_RDWR))
        shutdown(server, Int32(SHUT_RDWR))
    }

    func finish() {
        cut()
        if done.add(1, ordering: .relaxed).newValue == 2 {
            close(client)
            close(server)
        }
    }
}
