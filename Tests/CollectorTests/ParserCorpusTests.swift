import Foundation
import Testing
import UsageRecords
@testable import Collector
@testable import Delivery
@testable import HostSampling
@testable import LogLines
@testable import LogParsers
@testable import LogSources
@testable import SystemCalls
@testable import Workloads

/// Every excerpt in /work/shared/data/logs through the parser that reads it and through `auto`,
/// with the outcome of each line and every record written out per file.
@Suite("Parser: the real log excerpts", .enabled(if: ParserFixtures.logsAvailable, "../shared/data/logs is not here"))
struct ParserCorpusTests {
    typealias F = ParserFixtures

    struct Case: Sendable, CustomStringConvertible {
        var file: String
        var software: String
        /// One outcome a line (see `ParserFixtures.short`).
        var outcomes: String
        var records: [ParsedEvent] = []
        /// For syslog-style times, which have no year.
        var year: Int64? = nil
        var description: String { file }
    }

    static func at(_ ms: Int64) -> Timestamp { Timestamp(milliseconds: ms) }

    static let sampleRecords: [ParsedEvent] = {
        let m = "8043c8452ae9830aac14c517adff3839dbd9228f-1698771157700"
        let mod = "w_xfsb9gxtlfom", viewer = "w_uxw0dzhtvk0l"
        let cam = "w_xfsb9gxtlfom_0e2313d7c9d39860e908e20cd196adc3a6b8bf5c16110fdadc63741f48193c19"
        return [
            ParsedEvent(time: at(1_698_771_158_093), payload: .meetingStarted(MeetingStarted(meeting: m, external: "random-9019868", name: "random-9019868")), extra: ["record": .bool(false)]),
            ParsedEvent(time: at(1_698_771_164_638), payload: .userJoined(UserJoined(meeting: m, user: mod, role: "MODERATOR", client: "HTML5")), extra: ["external_user": .string(mod)]),
            ParsedEvent(time: at(1_698_771_173_894), payload: .userJoined(UserJoined(meeting: m, user: viewer, role: "VIEWER", client: "HTML5")), extra: ["external_user": .string(viewer)]),
            ParsedEvent(time: at(1_698_771_180_548), payload: .activityStarted(Activity(meeting: m, user: mod, activity: "audio")), extra: ["listen_only": .bool(false)]),
            ParsedEvent(time: at(1_698_771_202_720), payload: .activityStopped(Activity(meeting: m, user: mod, activity: "audio"))),
            ParsedEvent(time: at(1_698_771_212_433), payload: .activityStarted(Activity(meeting: m, user: mod, activity: "webcam")), extra: ["stream": .string(cam)]),
            ParsedEvent(time: at(1_698_771_219_309), payload: .activityStopped(Activity(meeting: m, user: mod, activity: "webcam")), extra: ["stream": .string(cam)]),
            ParsedEvent(time: at(1_698_771_224_452), payload: .activityStarted(Activity(meeting: m, activity: "screenshare")), extra: ["stream": .string("182c133e-5512-4695-be20-8cc760dc1595")]),
            ParsedEvent(time: at(1_698_771_228_664), payload: .activityStopped(Activity(meeting: m, activity: "screenshare"))),
            ParsedEvent(time: at(1_698_771_293_000), payload: .userLeft(UserLeft(meeting: m, user: viewer))),
            ParsedEvent(time: at(1_698_771_303_008), payload: .userLeft(UserLeft(meeting: m, user: mod))),
            ParsedEvent(time: at(1_698_771_310_209), payload: .meetingEnded(MeetingEnded(meeting: m))),
        ]
    }()

    static let cases: [Case] = [
        // bbb-apps-akka
        Case(file: "bbb-apps-akka__bigbluebutton-docker-issue-99.log", software: "bbb", outcomes: "- - - - - - - - - -"),
        // Hard-wrapped by the paste: the head is counted as cut, and its pieces are joined into the join.
        Case(file: "bbb-apps-akka__issue-12656-rsyslog-user-joined.log", software: "bbb", outcomes: "!truncated-json - - 1 - - - -", records: [
            ParsedEvent(time: at(1_624_474_764_130), payload: .userJoined(UserJoined(meeting: "111be55238ecefd7b56d88c71b87cc329bb1e6d7-1624459550530", user: "w_mdu6yc6lwglm", role: "VIEWER", client: "HTML5")),
                        extra: ["external_user": .string("w_mdu6yc6lwglm")]),
        ]),
        Case(file: "bbb-apps-akka__issue-13791-failed-to-map.log", software: "bbb", outcomes: "-"),
        // VoiceCallStateEvtMsg is not read (the audio route is UserJoined/LeftVoiceConfToClient); the cut third line is not looked into.
        Case(file: "bbb-apps-akka__issue-8824-voice-callstate-2.2.log", software: "bbb", outcomes: "- - -"),
        Case(file: "bbb-apps-akka__issue-8824-voice-join.log", software: "bbb", outcomes: "-"),
        Case(file: "bbb-apps-akka__pr-22005-journald-breakouts-3.0.log", software: "bbb", outcomes: "-"),
        Case(file: "bbb-apps-akka__pr-23910.log", software: "bbb", outcomes: "!truncated-json - - - 1", records: [
            ParsedEvent(time: at(1_758_034_642_223), payload: .userJoined(UserJoined(meeting: "c2a6c19a9c936178284843389ce797e0fb4d63f0-1758034624975", user: "w_4tbvct7hw0r8", role: "MODERATOR", client: "HTML5")),
                        extra: ["external_user": .string("w_4tbvct7hw0r8")]),
        ]),
        Case(file: "bbb-apps-akka__pr-8782-MeetingStatsDataSysMsg.log", software: "bbb", outcomes: "-"),
        Case(file: "bbb-fsesl-akka__bbb-install-issue-122-connection-refused.log", software: "bbb", outcomes: Array(repeating: "-", count: 15).joined(separator: " ")),
        // bbb-rap (journalctl text: local times without a year)
        Case(file: "bbb-rap__bigbluebutton-exporter-issue-81-journald-process-to-publish.log", software: "bbb", outcomes: "- - 0 1 - - - 0 0 - -", records: [
            ParsedEvent(time: F.t("2022-07-07T08:55:25Z"), payload: .recordingProcessed(RecordingProcessed(
                recording: "301476b025f8b7c33088ad890d0231b542833719-1657177813365", meeting: "301476b025f8b7c33088ad890d0231b542833719-1657177813365",
                step: "process", started: F.t("2022-07-07T08:51:51.376Z"), ended: F.t("2022-07-07T08:55:25Z"))),
                        extra: ["success": .bool(true), "started_from": .string("process-took")]),
        ], year: 2022),
        Case(file: "bbb-rap__issue-16613-process-log-ffmpeg.log", software: "bbb", outcomes: "- - - - - -"),
        Case(file: "bbb-rap__issue-18418-journald-process-failed.log", software: "bbb", outcomes: "- 0 1 - - - - - -", records: [
            ParsedEvent(time: F.t("2023-08-01T17:33:16Z"), payload: .recordingProcessed(RecordingProcessed(
                recording: "766300bf6e007ad2e7f82031b14e325114a14d67-1690899638821", meeting: "766300bf6e007ad2e7f82031b14e325114a14d67-1690899638821",
                step: "process", started: F.t("2023-08-01T17:32:54.630Z"), ended: F.t("2023-08-01T17:33:16Z"))),
                        extra: ["success": .bool(false), "started_from": .string("process-took")]),
        ], year: 2023),
        // The archive's start is before the excerpt: its end cannot be placed.
        Case(file: "bbb-rap__issue-19227-journald.log", software: "bbb", outcomes: "- - - - - - - - !unpaired-end - -", year: 2023),
        Case(file: "bbb-rap__issue-19874-rfc5424-csv-export.log", software: "bbb", outcomes: "- - - - - - -"),
        Case(file: "bbb-rap__issue-8363-bbb-rap-worker-log-grep.log", software: "bbb", outcomes: "- - - - - - - - -"),
        Case(file: "bbb-rap__scalelite-issue-608-post_events.log", software: "bbb", outcomes: "- - -"),
        // Not logs, but what the logs carry.
        Case(file: "bbb-recording-events-xml__pr-12465.xml", software: "bbb", outcomes: Array(repeating: "-", count: 15).joined(separator: " ")),
        Case(file: "bbb-redis-events__bbb-webhooks-example-raw-events.jsonl", software: "bbb",
             outcomes: "1 1 - - - 1 1 - - 1 1 1 1 1 - - - - - - - 1 1 1", records: sampleRecords),
        Case(file: "bbb-webhooks__example-mapped-events.jsonl", software: "bbb", outcomes: Array(repeating: "-", count: 24).joined(separator: " ")),
        // bbb-web
        Case(file: "bbb-web__bbb-install-issue-93.log", software: "bbb", outcomes: Array(repeating: "-", count: 11).joined(separator: " ")),
        Case(file: "bbb-web__issue-15338-journald-run-prod.log", software: "bbb", outcomes: Array(repeating: "-", count: 20).joined(separator: " ")),
        Case(file: "bbb-web__issue-15696-journald-freemarker-wrapped.log", software: "bbb", outcomes: "- - - - -"),
        Case(file: "bbb-web__issue-18880-debug-noise.log", software: "bbb", outcomes: "- - - - - - -"),
        Case(file: "bbb-web__issue-19458-stacktrace.log", software: "bbb", outcomes: "- - - - - - - - - -"),
        Case(file: "bbb-web__issue-8462-meeting-ended.log", software: "bbb", outcomes: "1 - !truncated-json", records: [
            ParsedEvent(time: F.t("2020-01-08T04:46:10.692Z"), payload: .meetingEnded(MeetingEnded(meeting: "979ded1e092f6e01bf07857fd83362e5d07edf64-1578458746855"))),
        ]),
        Case(file: "bbb-web__issue-8510-analytics.log", software: "bbb", outcomes: "1 - 1 - -", records: [
            ParsedEvent(time: F.t("2020-04-14T19:57:14.463Z"), payload: .userJoined(UserJoined(meeting: "2fd4cacadbe53b582b2a2a910d617cd6365d27ce-1586894220067", user: "w_u0rjuthid3ab", role: "MODERATOR", client: "HTML5")),
                        extra: ["external_user": .string("w_u0rjuthid3ab")]),
            ParsedEvent(time: F.t("2020-04-14T19:57:16.987Z"), payload: .userJoined(UserJoined(meeting: "2fd4cacadbe53b582b2a2a910d617cd6365d27ce-1586894220067", user: "w_tpmaedg8qly7", role: "MODERATOR", client: "HTML5")),
                        extra: ["external_user": .string("w_tpmaedg8qly7")]),
        ]),
        // webcams and screen share come from akka-apps; the SFU and FreeSWITCH are second routes.
        Case(file: "bbb-webrtc-sfu__bigbluebutton-docker-issue-43-compose.log", software: "bbb", outcomes: "- - - - - - - - -"),
        Case(file: "bbb-webrtc-sfu__issue-13385-journald-stacktrace.log", software: "bbb", outcomes: "- - - - - - - -"),
        Case(file: "bbb-webrtc-sfu__issue-18656-winston3-json-2.7.log", software: "bbb", outcomes: "- - - -"),
        Case(file: "bbb-webrtc-sfu__issue-23259-pino-3.0.log", software: "bbb", outcomes: "- - - - - - -"),
        Case(file: "bbb-webrtc-sfu__issue-5376-winston2-file-json.log", software: "bbb", outcomes: "- - - - - - -"),
        Case(file: "bbb-webrtc-sfu__issue-6349-journald-multiline-sdp.log", software: "bbb", outcomes: Array(repeating: "-", count: 15).joined(separator: " ")),
        Case(file: "bbb-webrtc-sfu__issue-6349-journald-winston2-console.log", software: "bbb", outcomes: "- - - - - - - - -"),
        Case(file: "bbb-webrtc-sfu__issue-7829-journald-mixed.log", software: "bbb", outcomes: "- - - - - - - - -"),
        Case(file: "bbb-webrtc-sfu__issue-9472-listenonly-json-2.2.log", software: "bbb", outcomes: "- - - -"),
        Case(file: "freeswitch__bbb-install-issue-299-echo-loop.log", software: "bbb", outcomes: "- - - - - - - - -"),
        Case(file: "freeswitch__issue-13703-session-ended.log", software: "bbb", outcomes: "- - - - - - - -"),
        Case(file: "freeswitch__issue-8824-new-channel.log", software: "bbb", outcomes: "- - - - -"),
        Case(file: "freeswitch__issue-9472-show-channels.txt", software: "bbb", outcomes: "- - - - -"),
        Case(file: "freeswitch__issue-9955-sdp-crlf.log", software: "bbb", outcomes: Array(repeating: "-", count: 17).joined(separator: " ")),
        Case(file: "syslog__bbb-install-issue-259-wrapped.log", software: "bbb", outcomes: "- - - - - -"),
        // jicofo
        Case(file: "jicofo__christiancuri-docs-issue-9-old-format.log", software: "jitsi", outcomes: "- 1 - - 1 - -", records: [
            ParsedEvent(time: F.t("2020-11-29T20:41:48.782Z"), payload: .meetingStarted(MeetingStarted(meeting: "timelypullstouchallegedly@conference.mydomain.com",
                                                                                                    external: "timelypullstouchallegedly@conference.mydomain.com", name: "timelypullstouchallegedly"))),
            ParsedEvent(time: F.t("2020-11-29T20:41:48.878Z"), payload: .userJoined(UserJoined(meeting: "timelypullstouchallegedly@conference.mydomain.com", user: "f692a1b9", role: "UNKNOWN"))),
        ]),
        Case(file: "jicofo__docker-jitsi-meet-issue-1818-stop.log", software: "jitsi", outcomes: "- - 1", records: [
            ParsedEvent(time: F.t("2024-06-02T18:59:44.499Z"), payload: .meetingEnded(MeetingEnded(meeting: "b5a57331-f51a-4bfe-827e-0aab6247baf7"))),
        ]),
        Case(file: "jicofo__jicofo-issue-564-participants-2020.log", software: "jitsi", outcomes: "- - - - - - -"),
        Case(file: "jicofo__jitsi-meet-issue-16440-member-left-recording.log", software: "jitsi", outcomes: "1 - 1 - -", records: [
            ParsedEvent(time: F.t("2025-09-20T12:25:56.452Z"), payload: .activityStopped(Activity(meeting: "381ca070-b77f-4158-967d-36436694ef41", activity: "recording"))),
            ParsedEvent(time: F.t("2025-09-20T12:25:56.599Z"), payload: .userLeft(UserLeft(meeting: "381ca070-b77f-4158-967d-36436694ef41", user: "8451a99d"))),
        ]),
        Case(file: "jicofo__jitsi-meet-issue-3691-2018-format.log", software: "jitsi", outcomes: "- - 1 - - - -", records: [
            ParsedEvent(time: F.t("2018-12-17T07:40:38.382Z"), payload: .userJoined(UserJoined(meeting: "0834@conference.meet.roy2651.cn", user: "cd1a4b8e", role: "UNKNOWN"))),
        ]),
        // The conference waits for its meeting id, which the excerpt cuts off.
        Case(file: "jicofo__jitsi-videobridge-issue-2162-created-conference.log", software: "jitsi", outcomes: "- - - 0 - - -"),
        Case(file: "jvb__docker-jitsi-meet-issue-1566-expire-conf-restart.log", software: "jitsi", outcomes: "- - - - - -"),
        Case(file: "jvb__docker-jitsi-meet-issue-1735-multiline-xml.log", software: "jitsi", outcomes: "- -"),
        Case(file: "jvb__docker-jitsi-meet-issue-1754-expire-conference.log", software: "jitsi", outcomes: "- - - - -"),
        Case(file: "jvb__jitsi-kubernetes-operator-issue-11-dtls.log", software: "jitsi", outcomes: "- - - - - -"),
        Case(file: "jvb__jitsi-meet-issue-13731-endpoint-expire.log", software: "jitsi", outcomes: "- - - - - -"),
        Case(file: "jvb__jitsi-videobridge-pr-884-old-format-stacktrace.log", software: "jitsi", outcomes: Array(repeating: "-", count: 12).joined(separator: " ")),
    ]

    @Test("Each excerpt: every line's outcome and every record, by its own parser and by auto", arguments: cases)
    func excerpt(_ c: Case) throws {
        let text = try F.corpus(c.file)
        for software in [c.software, "auto"] {
            var parser = try ParserChoice.make(software: software, options: ParserOptions(localTimeZone: .utc, syslogYear: c.year))
            let outcomes = F.outcomes(&parser, text: text)
            #expect(F.shorts(outcomes) == c.outcomes, "\(software)")
            #expect(F.events(outcomes) == c.records, "\(software)")
            for o in outcomes { if case .skipped(let r) = o { #expect(!r.code.isEmpty && !r.detail.isEmpty) } }
            try F.roundTrip(F.events(outcomes))
        }
    }

    @Test("Every excerpt in the folder has its case")
    func everyFile() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: F.logsDirectory.path).filter { $0 != "SOURCES.tsv" }
        #expect(Set(files) == Set(Self.cases.map(\.file)))
    }

    @Test("Without a year, syslog-style rap lines are skipped as having no usable time")
    func noYear() throws {
        var parser = try ParserChoice.make(software: "bbb", options: F.utc)
        let o = F.outcomes(&parser, text: try F.corpus("bbb-rap__bigbluebutton-exporter-issue-81-journald-process-to-publish.log"))
        #expect(F.shorts(o) == "- - !no-timestamp !no-timestamp - - - !no-timestamp 0 - -")
    }
}
