import LogLines
import UsageRecords

/// `--software auto`: each line goes to the parser whose look it has. The program that wrote it
/// decides when the journal says (`SYSLOG_IDENTIFIER` or unit); otherwise BigBlueButton's byte
/// checks run first and jicofo's (`Jicofo ` near the start) after, both cheap enough for every line.
public struct AutoParser: LogParser {
    public var name: String { "auto" }

    private var bbb: BBBParser
    private var jitsi: JitsiParser

    public init(options: ParserOptions = ParserOptions()) {
        bbb = BBBParser(options: options)
        jitsi = JitsiParser(options: options)
    }

    /// (`java`, bbb-web's identifier in current packaging, is not here: jicofo is Java too, so
    /// such lines are told apart by their look.)
    private static let bigBlueButtonOrigins = ["bbb-", "run-prod.sh"]

    public mutating func parse(_ line: LogLine) -> ParseOutcome {
        line.withBytes { b in
            if let origin = line.origin {
                if origin.contains("jicofo") { return jitsi.parse(b, line: line) }
                if Self.bigBlueButtonOrigins.contains(where: { origin.hasPrefix($0) }) { return bbb.parse(b, line: line) }
            }
            let outcome = bbb.parse(b, line: line)
            guard case .ignored = outcome, JitsiParser.mayMatch(b) else { return outcome }
            return jitsi.parse(b, line: line)
        }
    }
}
