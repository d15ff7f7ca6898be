import ArgumentParser
import Collector
import HostSampling
import LogLines
import LogParsers
import LogSources
import SystemCalls
import ConfigFiles
import Logging
import UsageRecords

#if canImport(Glibc)
import Glibc
#endif

struct ParseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Print the usage records the agent would ship for the given logs.",
        discussion: "Records go to standard output, one a line; counts of lines read, records made and lines skipped (with reasons) go to standard error.")

    @Option(help: "Which parser reads the lines: bbb, jitsi, auto (chosen line by line) or rules (the [[rules]] of --config alone).")
    var software = "auto"

    @Option(help: "An agent.toml whose [[rules]] are tried on every line before the parser.")
    var config: String?

    @Option(help: "The year of syslog-style times, which have none (text copies of the journal). Default: the latest year that does not put a line in the future.")
    var year: Int?

    @Option(help: "The host name the records carry (default: this system's).")
    var host: String?

    @Option(help: "Read the journal files in this folder.")
    var journalDir: String?

    @Option(help: "Lines longer than this many bytes are counted and skipped.")
    var maxLineBytes = 1 << 20

    @Argument(help: "Log files to read; - for standard input.")
    var files: [String] = []

    func validate() throws {
        guard AgentConfiguration.softwareChoices.contains(software) else {
            throw ValidationError("--software must be one of \(AgentConfiguration.softwareChoices.joined(separator: ", "))")
        }
        if let year, !(1970...9999).contains(year) {
            throw ValidationError("--year \(year) is not a year between 1970 and 9999")
        }
        if software == "rules" && config == nil {
            throw ValidationError("--software rules reads by the [[rules]] of an agent.toml: give it with --config")
        }
        if files.isEmpty && journalDir == nil {
            throw ValidationError("name log files (or - for standard input), or --journal-dir")
        }
    }

    func run() async throws {
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = .warning
            return h
        }
        let logger = Logger(label: "meetmeter.parse")
        let hostName = host ?? AgentConfiguration.defaultHostName
        var options = ParserOptions(syslogYear: year.map(Int64.init), syslogReference: year == nil ? Heartbeat.now() : nil)
        if let config {
            do {
                options.rules = try AgentConfiguration.rules(in: ConfigDocument(path: config).root)
            } catch {
                printError("meetmeter: \(error)")
                throw ExitCode(78)
            }
            if options.rules.isEmpty { printError("meetmeter: \(config) has no [[rules]] table") }
        }
        let parser: any LogParser
        do {
            parser = try ParserChoice.make(software: software, options: options)
        } catch {
            throw ValidationError("--software \(error)")
        }
        let sink = ParseSink(processor: LineProcessor(parser: parser, host: hostName, source: "parse", logger: logger))
        var failures = 0
        // Lines the parser's prefilter passed over in the follower: read, and counted as such.
        var passedOver = 0
        // A prefilter follows the parser's state through one file; one parser reading several
        // files in turn would carry its state to the next one, so then every line reaches it.
        let prefilter = files.count == 1 ? ParserChoice.prefilter(software: software, options: options) : nil
        for file in files {
            if file == "-" {
                var stream = StreamLines(fd: 0, name: "-", maxLineBytes: maxLineBytes)
                do {
                    while let lines = try stream.next() { await sink.take(lines) }
                } catch {
                    printError("meetmeter: \(error)")
                    failures += 1
                }
                if stream.overlongLines > 0 {
                    printError("meetmeter: -: \(stream.overlongLines) line(s) over \(maxLineBytes) bytes: their start is read, the rest skipped")
                }
                continue
            }
            // A file that does not exist is an error here, not something to wait for as the agent would.
            guard access(file, R_OK) == 0 else {
                printError("meetmeter: \(file): \(String(cString: strerror(errno)))")
                failures += 1
                continue
            }
            let follower = FileFollower(
                configuration: FileFollowerConfiguration(name: file, patterns: [file], follow: false, positions: nil,
                                                         maxLineBytes: maxLineBytes,
                                                         prefilter: prefilter),
                logger: logger)
            do {
                try await follower.run { lines in await sink.take(lines) }
            } catch {
                printError("meetmeter: \(file): \(error)")
                failures += 1
            }
            passedOver += follower.counts.passedOver
            if follower.counts.overlongLines > 0 {
                printError("meetmeter: \(file): \(follower.counts.overlongLines) line(s) over \(maxLineBytes) bytes: their start is read, the rest skipped")
            }
        }
        if let journalDir {
            let reader = JournalReader(
                configuration: JournalReaderConfiguration(directory: journalDir, follow: false, positions: nil,
                                                          maxLineBytes: maxLineBytes),
                logger: logger)
            do {
                try await reader.run { lines in await sink.take(lines) }
            } catch {
                printError("meetmeter: \(journalDir): \(error)")
                failures += 1
            }
        }
        let c = await sink.finish()
        var summary = "meetmeter: read \(c.lines + passedOver) lines, made \(c.records) records, skipped \(c.skippedTotal) lines"
        for (reason, n) in c.skipped.sorted(by: { $0.key < $1.key }) {
            summary += "\n  \(reason): \(n) (for example \(c.examples[reason] ?? ""))"
        }
        printError(summary)
        if failures > 0 { throw ExitCode(1) }
    }
}

/// Parses batches in order and writes their records to standard output, buffered.
actor ParseSink {
    private var processor: LineProcessor
    private var buffer: [UInt8] = []

    init(processor: LineProcessor) { self.processor = processor }

    func take(_ lines: [LogLine]) {
        for r in processor.process(lines) {
            RecordCodec.encode(r, into: &buffer)
            buffer.append(0x0A)
        }
        if buffer.count > 1 << 16 { flush() }
    }

    func finish() -> ParseCounts {
        flush()
        return processor.counts
    }

    private func flush() {
        // A reader that went away (`meetmeter parse … | head`) ends the output, not the count.
        buffer.withUnsafeBytes { raw in _ = try? SystemCall.writeAll(1, raw, path: "standard output") }
        buffer.removeAll(keepingCapacity: true)
    }
}
