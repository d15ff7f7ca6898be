#if canImport(Glibc)
import Glibc
#endif
@testable import Aggregation
import Billing
@testable import LogLines
@testable import LogParsers
@testable import LogSources
import ConfigFiles
import NIOCore
import NIOEmbedded
import UsageRecords

/// Every target by the name `scripts/fuzz.sh` runs it under. Besides not crashing (ASan, Swift's
/// own traps), each checks the properties noted with it.
enum FuzzTargets {
    static let all: [String: @Sendable (UnsafeRawBufferPointer) -> Void] = [
        "record-codec": recordCodec,
        "wire": wire,
        "json": json,
        "timestamp": timestamp,
        "line-frame": lineFrame,
        "stream-lines": streamLines,
        "bbb": bbb,
        "bbb-prefilter": bbbPrefilter,
        "jitsi": jitsi,
        "auto": auto,
        "rules": rules,
        "json-pick": jsonPick,
        "config": config,
    ]

    // MARK: the record codec and the wire protocol

    /// Both decoders (String and raw bytes) agree; whatever decodes survives encode∘decode
    /// unchanged, and its encoding is a fixed point.
    static func recordCodec(_ data: UnsafeRawBufferPointer) {
        let bytes = data.bindMemory(to: UInt8.self)
        let fromBytes = Result { () throws(RecordLineError) in try RecordCodec.decode(bytes) }
        let text = String(decoding: bytes, as: UTF8.self)
        let fromText = Result { () throws(RecordLineError) in try RecordCodec.decode(text) }
        if isValidUTF8(bytes) {
            switch (fromBytes, fromText) {
            case (.success(let a), .success(let b)):
                require(a == b, "the byte and String decoders read different records")
            case (.failure, .failure):
                break
            default:
                violated("the byte and String decoders disagree on whether the line is a record: bytes \(fromBytes), text \(fromText)")
            }
        }
        guard case .success(let record) = fromBytes else { return }
        let line = RecordCodec.encode(record)
        let again: UsageRecord
        do { again = try RecordCodec.decode(line) } catch { violated("encode(\(record)) = \(line) does not decode: \(error)") }
        require(again == record, "decode(encode(r)) != r for \(line)")
        require(RecordCodec.encode(again) == line, "encode is not a fixed point for \(line)")
    }

    /// The hello and every reply an agent decodes: whatever decodes re-encodes to the same value.
    static func wire(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data.bindMemory(to: UInt8.self), as: UTF8.self)
        if let hello = try? WireProtocol.Hello.decode(text) {
            let again = try? WireProtocol.Hello.decode(hello.line)
            require(again == hello, "Hello does not survive encode∘decode: \(hello.line)")
        }
        if let reply = try? WireProtocol.decodeReply(text) {
            let line: String
            switch reply {
            case .hello(let h): line = h.line
            case .ack(let a): line = a.encoded
            case .fatal(let f): line = f.encoded
            }
            require((try? WireProtocol.decodeReply(line)) == reply, "Reply does not survive encode∘decode: \(line)")
        }
    }

    /// JSONValue: what parses writes back to text that parses to the same value; the prefix
    /// parser agrees with the whole-text parser on a text that is one value.
    static func json(_ data: UnsafeRawBufferPointer) {
        let bytes = data.bindMemory(to: UInt8.self)
        guard let value = try? JSONParser.parse(bytes) else { return }
        var out = ""
        value.write(to: &out)
        let again = try? JSONParser.parse(out)
        require(again == value, "JSON does not survive write∘parse: \(out)")
        if let (prefix, end) = try? JSONParser.parsePrefix(bytes) {
            require(end <= bytes.count, "parsePrefix ends past the text: \(end) of \(bytes.count)")
            require(prefix == value, "parsePrefix reads another value than parse")
        }
    }

    /// Timestamps: what RFC 3339 parsing accepts prints and parses back to the same instant; the
    /// log time readers stay inside the line at every start.
    static func timestamp(_ data: UnsafeRawBufferPointer) {
        let b = data.bindMemory(to: UInt8.self)
        let text = String(decoding: b, as: UTF8.self)
        if let t = Timestamp(rfc3339: text) {
            require(Timestamp(rfc3339: t.rfc3339) == t, "\(text) parses to \(t.rfc3339), which does not parse back")
        }
        for start in 0..<min(b.count, 40) {
            _ = LogTime.civil(b, at: start)
            if let z = LogTime.zoned(b, at: start) { require(z.end <= b.count, "zoned ends past the line") }
            if let s = LogTime.syslog(b, at: start) { require(s.end <= b.count, "syslog ends past the line") }
        }
        _ = LogTime.lastZoned(b, before: b.count)
        let zones: [LocalTimeZone] = [.utc, .fixed(seconds: -86_340), .fixed(seconds: 19_800)]
        for zone in zones {
            _ = LogTime.leading(b, zone: zone, year: nil)
            _ = LogTime.leading(b, zone: zone, year: 2026)
            _ = LogTime.leading(b, zone: zone, year: nil, reference: Timestamp(seconds: 1_795_000_000))
        }
        _ = LocalTimeZone(configured: text)
    }

    // MARK: line framing

    /// The aggregator's framing, fed in chunks the input chooses, against a plain model of the
    /// whole stream: the same lines in order, and a line over the limit ends the stream.
    /// Input: limit byte, chunk-size byte, then the stream.
    static func lineFrame(_ data: UnsafeRawBufferPointer) {
        guard data.count >= 2 else { return }
        let limit = Int(data[0]) + 1
        let chunk = Int(data[1]) + 1
        let stream = Array(data[2...])

        var expected: [[UInt8]] = []
        var expectTooLong = false
        var rest = stream[...]
        while !rest.isEmpty {
            let newline = rest.firstIndex(of: 0x0A)
            var line = rest[rest.startIndex..<(newline ?? rest.endIndex)]
            if line.last == 0x0D { line = line.dropLast() }
            if line.count > limit {
                expectTooLong = true
                break
            }
            expected.append(Array(line))
            guard let newline else { break }
            rest = rest[(newline + 1)...]
        }

        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maxLineBytes: limit)))
        var got: [[UInt8]] = []
        var gotTooLong = false
        func drain() {
            while let frame = try? channel.readInbound(as: LineFrame.self) {
                switch frame {
                case .line(let b):
                    require(!gotTooLong, "a line came after the too-long notice")
                    got.append(Array(b.readableBytesView))
                case .tooLong:
                    require(!gotTooLong, "two too-long notices")
                    gotTooLong = true
                }
            }
        }
        var at = 0
        while at < stream.count {
            let end = min(stream.count, at + chunk)
            var buffer = channel.allocator.buffer(capacity: end - at)
            buffer.writeBytes(stream[at..<end])
            do { try channel.writeInbound(buffer) } catch { violated("the decoder threw: \(error)") }
            drain()
            at = end
        }
        // End of input: decodeLast hands over an unterminated last line.
        _ = try? channel.finish()
        drain()
        require(gotTooLong == expectTooLong, "too-long: got \(gotTooLong), expected \(expectTooLong) (limit \(limit), lines \(got.map(\.count)) vs \(expected.map(\.count)))")
        require(got == expected, "lines differ from the model (limit \(limit), chunk \(chunk)): got \(got.map(\.count)), expected \(expected.map(\.count))")
        for line in got { require(line.count <= limit, "a line of \(line.count) bytes passed a limit of \(limit)") }
    }

    /// `meetmeter parse -`'s line cutter over a pipe: every line arrives, with its line number;
    /// a line of at most the limit arrives whole, a longer one as its first `limit` bytes and
    /// counted overlong once (the one rule of `LineCutter`, as the file follower reads).
    /// Input: limit byte, then the stream (at most a pipe's buffer, so one write suffices).
    static func streamLines(_ data: UnsafeRawBufferPointer) {
        guard data.count >= 1, data.count <= 60_000 else { return }
        let limit = Int(data[0]) + 1
        let stream = Array(data[1...])
        var model = stream.split(separator: 0x0A, omittingEmptySubsequences: false).map { line -> ArraySlice<UInt8> in
            line.last == 0x0D ? line.dropLast() : line
        }
        if stream.last == 0x0A || stream.isEmpty { model.removeLast() }

        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { violated("pipe: \(errno)") }
        let written = stream.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
        close(fds[1])
        require(written == stream.count, "short write to the pipe")
        var reader = StreamLines(fd: fds[0], name: "-", maxLineBytes: limit)
        var got: [LogLine] = []
        do {
            while let batch = try reader.next(maxLines: 7) { got += batch }
        } catch {
            violated("reading the pipe failed: \(error)")
        }
        close(fds[0])

        require(got.count == model.count, "\(got.count) lines arrived, the stream has \(model.count)")
        var overlong = 0
        for (index, (line, arrived)) in zip(model, got).enumerated() {
            let number = UInt64(index + 1)
            require(arrived.position == .stream(name: "-", line: number), "line \(number) arrived as \(arrived.position)")
            if line.count > limit { overlong += 1 }
            require(arrived.text == String(decoding: line.prefix(limit), as: UTF8.self), "line \(number) arrived changed (limit \(limit))")
        }
        require(reader.overlongLines == overlong, "\(overlong) lines over the limit but \(reader.overlongLines) counted overlong")
    }

    // MARK: parsers

    /// File-like lines, one per input line, with their offsets (as a file follower gives them).
    static func lines(_ data: UnsafeRawBufferPointer) -> [(bytes: ArraySlice<UInt8>, line: LogLine)] {
        var out: [(ArraySlice<UInt8>, LogLine)] = []
        var offset: UInt64 = 0
        for raw in Array(data).split(separator: 0x0A, omittingEmptySubsequences: false) {
            let text = String(decoding: raw, as: UTF8.self)
            out.append((raw, LogLine(source: "fuzz", position: .file(fingerprint: 0xF0CC, offset: offset), text: text)))
            offset += UInt64(raw.count + 1)
        }
        return out
    }

    /// Whatever a parser makes is a record the codec carries unchanged.
    static func checkOutcome(_ outcome: ParseOutcome, _ line: LogLine) {
        guard case .events(let events) = outcome else { return }
        let records = RecordMaker(host: "fuzz").records(from: line, events: events)
        for record in records {
            let encoded = RecordCodec.encode(record)
            do {
                let back = try RecordCodec.decode(encoded)
                require(back == record, "a parsed record does not survive the codec: \(encoded)")
            } catch {
                violated("a parsed record does not decode: \(encoded): \(error)")
            }
        }
    }

    static func run(_ parser: inout some LogParser, _ data: UnsafeRawBufferPointer) {
        for (_, line) in lines(data) { checkOutcome(parser.parse(line), line) }
    }

    static func bbb(_ data: UnsafeRawBufferPointer) {
        var p = BBBParser(options: ParserOptions(localTimeZone: .utc, syslogReference: Timestamp(seconds: 1_795_000_000)))
        run(&p, data)
    }

    /// The prefilter's contract (LinePrefilter): a line it passes over is one the parser ignores
    /// without a change of state. One parser reads every line, another only the kept ones; the
    /// first must ignore every dropped line, and both must say the same of every kept one.
    static func bbbPrefilter(_ data: UnsafeRawBufferPointer) {
        let options = ParserOptions(localTimeZone: .utc, syslogYear: 2026)
        var all = BBBParser(options: options)
        var kept = BBBParser(options: options)
        var filter = BBBPrefilter()
        for (index, (bytes, line)) in lines(data).enumerated() {
            let keeps = Array(bytes).withUnsafeBufferPointer { filter.keeps($0) }
            let a = all.parse(line)
            if keeps {
                let b = kept.parse(line)
                require(a == b, "line \(index + 1): the parser that saw the dropped lines says \(a), the other \(b)")
            } else {
                require(a == .ignored, "line \(index + 1) was passed over by the prefilter but the parser says \(a)")
            }
        }
    }

    static func jitsi(_ data: UnsafeRawBufferPointer) {
        var p = JitsiParser(options: ParserOptions(localTimeZone: .fixed(seconds: 3600)))
        run(&p, data)
    }

    /// AutoParser, with the journal's origins too (the first byte picks one).
    static func auto(_ data: UnsafeRawBufferPointer) {
        guard let first = data.first else { return }
        let origins: [String?] = [nil, "jicofo", "bbb-apps-akka", "bbb-web", "bbb-rap", "run-prod.sh", "java"]
        let origin = origins[Int(first) % origins.count]
        var p = AutoParser(options: ParserOptions(localTimeZone: .utc, syslogYear: 2025))
        for (_, var line) in lines(UnsafeRawBufferPointer(rebasing: data[1...])) {
            line.origin = origin
            if origin != nil { line.time = Timestamp(seconds: 1_795_000_000) }
            checkOutcome(p.parse(line), line)
        }
    }

    /// Operator rules of every match form and time format, in front of the bbb parser.
    static let customRules: [CustomRule] = {
        do {
            return [
                try CustomRule(
                    name: "whiteboard-open", kind: .activityStarted,
                    match: .regex(#"^(?<time>\S+) .*whiteboard opened meeting=(?<meeting>\S+) user=(?<user>\S+)"#),
                    fields: ["meeting": "meeting", "user": "user", "activity": "=whiteboard"],
                    contains: "whiteboard opened", time: "time"),
                try CustomRule(
                    name: "client-background", kind: .clientBackground,
                    match: .json(after: "event=", equals: ["type": "visibility", "detail.state": "hidden"]),
                    fields: ["meeting": "meetingId", "user": "detail.userId", "platform": "detail.platform"],
                    contains: "visibility", time: "ts", timeFormat: .epochMilliseconds),
                try CustomRule(name: "s", kind: .meetingStarted, match: .regex(#"START (?<m>\S+) tenant=(?<t>\S+) at (?<at>[0-9: .-]+)"#),
                               fields: ["meeting": "m", "meta.tenant": "t", "name": "=Lesson"], time: "at", timeFormat: .local),
                try CustomRule(name: "p", kind: .recordingProcessed, match: .json(after: nil, equals: ["ev": "rendered"]),
                               fields: ["recording": "id", "meeting": "id", "step": "=render", "started": "from", "ended": "to"],
                               time: "to", timeFormat: .epochSeconds),
                try CustomRule(name: "st", kind: .storageSample, match: .regex(#"du (?<key>\S+) (?<bytes>-?\d+)"#),
                               fields: ["scope": "=recording", "key": "key", "bytes": "bytes"]),
                try CustomRule(name: "c", kind: "poll.answered", match: .regex(#"poll (?<m>\S+)"#), fields: ["meeting": "m"]),
            ]
        } catch {
            violated("the fuzz rules do not compile: \(error)")
        }
    }()

    static func rules(_ data: UnsafeRawBufferPointer) {
        var p = RulesParser(rules: customRules, fallback: BBBParser(options: ParserOptions(localTimeZone: .utc)), zone: .fixed(seconds: 7200))
        for (_, var line) in lines(data) {
            line.time = Timestamp(seconds: 1_795_000_000)
            checkOutcome(p.parse(line), line)
        }
    }

    /// JSONPick against the full parser: on a text that is one JSON object, the picked values
    /// are the values at those paths; a text the parser takes is never called invalid.
    /// Non-empty keys only: JSONPick's contract (its paths are the parsers' constants, none empty).
    static let pickPaths: [[String]] = [["a"], ["b", "c"], ["envelope", "name"], ["core", "body", "userId"], ["a", "a"]]
    static let picker = JSONPaths(pickPaths)

    static func jsonPick(_ data: UnsafeRawBufferPointer) {
        let bytes = data.bindMemory(to: UInt8.self)
        let picked = JSONPick.pick(bytes, from: 0, paths: picker)
        guard let full = try? JSONParser.parse(bytes), case .object(let members) = full else { return }
        guard case .picked(let values) = picked else {
            violated("JSONParser reads an object that JSONPick calls unreadable: \(picked)")
        }
        for (slot, path) in pickPaths.enumerated() {
            var value: JSONValue? = .object(members)
            for key in path {
                guard case .object(let m)? = value else { value = nil; break }
                value = m[key]
            }
            require(values[slot] == value, "path \(path): picked \(String(describing: values[slot])), parsed \(String(describing: value))")
        }
    }

    // MARK: configuration

    /// TOML with located errors, and the billing policy read from it: errors, never a crash.
    static func config(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data.bindMemory(to: UInt8.self), as: UTF8.self)
        if let doc = try? ConfigDocument(text: text, path: "fuzz.toml") { visit(doc.root, depth: 0) }
        _ = try? BillingPolicy.parse(text: text, path: "billing.toml")
    }
}

/// Every key of every table through every typed reader: each answers a value or a located error.
func visit(_ table: ConfigTable, depth: Int) {
    guard depth < 8 else { return }
    for key in table.keys {
        _ = table.line(of: key)
        _ = try? table.optionalString(key)
        _ = try? table.optionalInteger(key)
        _ = try? table.optionalBool(key)
        _ = try? table.optionalDecimal(key)
        _ = try? table.stringArray(key)
        _ = try? table.integer(key, default: 0, range: 0...100)
        _ = try? table.choice(key, of: ["a", "b"], default: "a")
        if let t = try? table.table(key) { visit(t, depth: depth + 1) }
        if let ts = try? table.tables(key) { for t in ts { visit(t, depth: depth + 1) } }
    }
    _ = try? table.rejectUnknownKeys(allowed: ["host", "listen"])
}

func isValidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
    var it = b.makeIterator()
    var decoder = UTF8()
    while true {
        switch decoder.decode(&it) {
        case .scalarValue: continue
        case .emptyInput: return true
        case .error: return false
        }
    }
}

func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { violated(message()) }
}

func violated(_ message: String) -> Never {
    let input = FuzzReplay.current.map { " (input: \($0))" } ?? ""
    printError("fuzz property violated: \(message)\(input)")
    abort()
}

/// The input being replayed by the suite's FuzzReplayTests, named in a violation's message;
/// libFuzzer names its inputs itself.
enum FuzzReplay {
    @TaskLocal static var current: String?
}

/// A line on standard error (`stderr` itself is a C global Swift 6 will not share).
func printError(_ message: String) {
    var text = message + "\n"
    text.withUTF8 { b in _ = write(2, b.baseAddress, b.count) }
}
