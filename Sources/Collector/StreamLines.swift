#if canImport(Glibc)
import Glibc
#endif

/// Reads lines from a file descriptor without identity (standard input) for `meetmeter parse -`.
/// Positions are line numbers; a line longer than `maxLineBytes` is cut there and the rest of
/// it skipped, so one huge line cannot exhaust memory.
public struct StreamLines {
    public let name: String
    let fd: Int32
    let maxLineBytes: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var eof = false
    private var lineNumber: UInt64 = 0
    private var discarding = false
    public private(set) var overlongLines = 0

    public init(fd: Int32, name: String, maxLineBytes: Int = 1 << 20) {
        self.fd = fd
        self.name = name
        self.maxLineBytes = maxLineBytes
    }

    /// The next batch of lines, or nil at the end of the stream.
    public mutating func next(maxLines: Int = 1024) -> [LogLine]? {
        var lines: [LogLine] = []
        while lines.count < maxLines {
            if let nl = buffer[start...].firstIndex(of: 0x0A) {
                lineNumber += 1
                if discarding {
                    discarding = false
                } else {
                    lines.append(makeLine(buffer[start..<nl]))
                }
                start = nl + 1
                continue
            }
            if buffer.count - start > maxLineBytes {
                // Keep the start of an overlong line, skip the rest up to its newline.
                if !discarding {
                    overlongLines += 1
                    discarding = true
                }
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            if eof {
                if start < buffer.count && !discarding {
                    lineNumber += 1
                    lines.append(makeLine(buffer[start...]))
                }
                buffer.removeAll()
                start = 0
                return lines.isEmpty ? nil : lines
            }
            if start > 0 {
                buffer.removeSubrange(0..<start)
                start = 0
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                eof = true
            } else {
                buffer.append(contentsOf: chunk[0..<n])
            }
            if !lines.isEmpty && eof == false && buffer.firstIndex(of: 0x0A) == nil { return lines }
        }
        return lines
    }

    private func makeLine(_ bytes: ArraySlice<UInt8>) -> LogLine {
        var slice = bytes
        if slice.last == 0x0D { slice = slice.dropLast() }
        return LogLine(source: name, position: .stream(name: name, line: lineNumber),
                       text: String(decoding: slice, as: UTF8.self))
    }
}
