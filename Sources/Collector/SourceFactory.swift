import LogParsers
import LogSources
import Logging
import SystemCalls

/// The agent's sources, made from agent.toml: one `FileFollower` per `[[files]]` table and one
/// `JournalReader` for `[journal]`, all keeping their positions in `STATE/positions/`.
public enum SourceFactory {
    /// A source and the meeting software whose parser reads its lines.
    public struct Made: Sendable {
        public var source: any LineSource
        /// `bbb`, `jitsi`, `auto` or `rules`.
        public var software: String
    }

    /// `follow: false` reads every source to its end once (drain, demo); positions are still saved.
    /// `disk` is told of position saves that find the state directory full (they wait and retry).
    public static func make(configuration c: AgentConfiguration, follow: Bool, logger: Logger,
                            disk: StateDisk? = nil) throws -> [Made]
    {
        let store = try PositionStore(directory: c.stateDirectory + "/positions", disk: disk)
        var made: [Made] = []
        for files in c.files {
            let follower = FileFollower(
                configuration: FileFollowerConfiguration(name: files.paths.joined(separator: ","), patterns: files.paths,
                                                         follow: follow, positions: store, maxLineBytes: c.maxLineBytes,
                                                         prefilter: ParserChoice.prefilter(software: files.software, options: c.parserOptions)),
                logger: logger)
            made.append(Made(source: follower, software: files.software))
        }
        if let j = c.journal {
            let reader = JournalReader(
                configuration: JournalReaderConfiguration(name: "journal", directory: j.directory, units: j.units,
                                                          identifiers: j.identifiers, follow: follow, positions: store,
                                                          maxLineBytes: c.maxLineBytes),
                logger: logger) { boot in
                    logger.notice("the journal shows a new boot of this host", metadata: ["boot": "\(boot)"])
                }
            made.append(Made(source: reader, software: j.software))
        }
        return made
    }
}
