import LogLines
import SystemCalls
import UsageRecords

/// Reads lines from a file descriptor without identity (standard input) for `meetmeter parse -`.
/// Positions are line numbers. Lines are cut as the file follower cuts them (`LineCutter`): a
/// line longer than `maxLineBytes` keeps its start and skips the rest, so one huge line cannot
/// exhaust memory and `meetmeter parse -` reads what `meetmeter parse FILE` reads.
public struct StreamLines {
    public let name: String
    let fd: Int32
    private var cutter: LineCutter
    private var chunk: [UInt8] = []
    private var used = 0
    private var eof = false
    private var lineNumber: UInt64 = 0
    public private(set) var overlongLines = 0

    public init(fd: Int32, name: String, maxLineBytes: Int = 1 << 20) {
        self.fd = fd
        self.name = name
        self.cutter = LineCutter(maximumLineBytes: maxLineBytes)
    }

    /// The next batch of lines, or nil at the end of the stream.
    public mutating func next(maxLines: Int = 1024) throws(FileError) -> [LogLine]? {
        var lines: [LogLine] = []
        while lines.count < maxLines {
            if used < chunk.count {
                let name = self.name
                var number = lineNumber
                var overlong = 0
                let room = maxLines - lines.count
                var taken = 0
                used += chunk.withUnsafeBufferPointer { all in
                    cutter.cut(UnsafeBufferPointer(rebasing: all[used...])) { line in
                        number += 1
                        if line.wasCut { overlong += 1 }
                        lines.append(LogLine(source: name, position: .stream(name: name, line: number),
                                             text: String(decoding: line.bytes, as: UTF8.self)))
                        taken += 1
                        return taken < room
                    }
                }
                lineNumber = number
                overlongLines += overlong
                continue
            }
            // Lines in hand and none left cut: hand them over rather than wait for more input.
            if !lines.isEmpty && !eof { return lines }
            if eof {
                if let last = cutter.finish({ line in (String(decoding: line.bytes, as: UTF8.self), line.wasCut) }) {
                    lineNumber += 1
                    if last.1 { overlongLines += 1 }
                    lines.append(LogLine(source: name, position: .stream(name: name, line: lineNumber), text: last.0))
                }
                return lines.isEmpty ? nil : lines
            }
            if chunk.count != 65536 { chunk = [UInt8](repeating: 0, count: 65536) }
            let fd = self.fd, name = self.name
            let n = try chunk.withUnsafeMutableBytes { raw in
                Result { () throws(FileError) in try SystemCall.read(fd, into: raw, path: name) }
            }.get()
            used = 0
            if n == 0 {
                chunk.removeAll(keepingCapacity: true)
                eof = true
            } else if n < chunk.count {
                chunk.removeSubrange(n...)
            }
        }
        return lines
    }
}
