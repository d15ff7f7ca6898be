import Aggregation
import Billing
import Hummingbird
import Statements
import UsageRecords

/// The console's web pages under `/console/`, for people: a period's accounts and amounts, an
/// account's statement with its usage per cycle drawn as bars, and the hosts. Server-rendered
/// HTML with no script; the same figures as the API, from the same statement.
///
/// A browser signs in once with its token (a form), which is then held in an HttpOnly,
/// SameSite=Strict cookie scoped to /console; the token is never put in a URL.
extension ConsoleAPI {
    static let cookie = "meetmeter_console"

    func addPages(to router: Router<BasicRequestContext>) {
        router.get("/console/style.css") { _, _ in
            Answer.body(Stylesheet.text, type: "text/css; charset=utf-8")
        }
        router.get("/console/icon.svg") { _, _ in
            Answer.body(Stylesheet.icon, type: "image/svg+xml")
        }
        router.get("/console/login") { _, _ in loginPage(error: nil) }
        router.post("/console/login") { request, _ in
            // A form posted from another site (login CSRF) is refused; browsers say where it came from.
            if request.headers[HTTPField.Name("Sec-Fetch-Site")!] == "cross-site" { throw ConsoleError(status: .forbidden, message: "forbidden") }
            var request = request
            let body = try await request.collectBody(upTo: 4096)
            let token = HTML.formValues(String(buffer: body))["token"] ?? ""
            guard access.scope(token: token) != nil else {
                var page = loginPage(error: "That token is not known here.")
                page.status = .unauthorized
                return page
            }
            var response = Response(status: .seeOther, headers: [.location: "/console/"])
            response.headers[.setCookie] = "\(Self.cookie)=\(token); Path=/console; HttpOnly; SameSite=Strict\(https ? "; Secure" : "")"
            return response
        }
        router.post("/console/logout") { _, _ in
            var response = Response(status: .seeOther, headers: [.location: "/console/login"])
            response.headers[.setCookie] = "\(Self.cookie)=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0\(https ? "; Secure" : "")"
            return response
        }
        router.get("/console/") { request, _ in
            try await signedIn(request) { viewer in try await accountsPage(request, viewer: viewer) }
        }
        router.get("/console/accounts/:account") { request, context in
            let account = try pathParameter(context, "account")
            return try await signedIn(request) { viewer in
                guard viewer.sees(account) else { return notFoundPage() }
                return try await accountPage(request, account: account, viewer: viewer)
            }
        }
        router.get("/console/meetings/:meeting") { request, context in
            let id = try pathParameter(context, "meeting")
            return try await signedIn(request) { viewer in
                let period = try period(request)
                let drill = try await meetingsAndDerivation(period)
                guard let meeting = drill.meetings.first(where: { $0.usage.meeting == id }), viewer.sees(meeting.account) else {
                    return notFoundPage()
                }
                return meetingPage(meeting, stretches: drill.derivation.stretches(meeting: id, policy: policy),
                                   records: drill.derivation.records(meeting: id), period: period)
            }
        }
        router.get("/console/meetings/:meeting/records/:record") { request, context in
            let id = try pathParameter(context, "meeting")
            let recordID = try pathParameter(context, "record")
            return try await signedIn(request) { viewer in
                let period = try period(request)
                let meetings = try await meetings(period)
                guard let meeting = meetings.first(where: { $0.usage.meeting == id }), viewer.sees(meeting.account),
                      let record = try await reading("the records of meeting \(id)", { try await store.records(meetings: [id]) })
                          .first(where: { $0.id.rawValue == recordID })
                else { return notFoundPage() }
                return recordPage(record, meeting: meeting, period: period, viewer: viewer)
            }
        }
        router.get("/console/recordings") { request, _ in
            try await signedIn(request) { viewer in
                let period = try period(request)
                return recordingsPage(try await recordings(period).filter { viewer.sees($0.account) }, period: period, viewer: viewer)
            }
        }
        router.get("/console/hosts") { request, _ in
            try await signedIn(request) { viewer in
                guard viewer.isOperator else { return notFoundPage() }
                let period = try period(request)
                return hostsPage(try await hosts(period), period: period)
            }
        }
    }

    /// The page for a signed-in viewer; without a valid cookie, the sign-in form.
    func signedIn(_ request: Request, _ page: (ConsoleSettings.Viewer.Scope) async throws -> Response) async throws -> Response {
        guard let token = request.cookies[Self.cookie]?.value, let viewer = access.scope(token: token) else {
            return Response(status: .seeOther, headers: [.location: "/console/login"])
        }
        do {
            return try await page(viewer)
        } catch let error as ConsoleError where error.status == .badRequest || error.status == .serviceUnavailable {
            var response = html(HTML.page(title: "Error", nav: nav(viewer), "<h1>\(HTML.escape(error.message))</h1>"))
            response.status = error.status
            return response
        }
    }

    func nav(_ viewer: ConsoleSettings.Viewer.Scope, period: Period? = nil) -> [(String, String)] {
        let query = period.map { "?period=\($0.label)" } ?? ""
        var links = [("Accounts", "/console/\(query)"), ("Recordings", "/console/recordings\(query)")]
        if viewer.isOperator { links.append(("Hosts", "/console/hosts\(query)")) }
        return links
    }

    func html(_ text: String) -> Response {
        var response = Answer.body(text, type: "text/html; charset=utf-8")
        response.headers[HTTPField.Name("Content-Security-Policy")!] =
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        return response
    }

    func loginPage(error: String?) -> Response {
        let message = error.map { "<p class=\"error\">\(HTML.escape($0))</p>" } ?? ""
        return html(HTML.page(title: "Sign in", nav: [], """
            <h1>Sign in</h1>
            \(message)
            <form class="login" method="post" action="/console/login">
            <label for="token">Your console token</label>
            <input type="password" id="token" name="token" autocomplete="current-password" required>
            <button type="submit">Sign in</button>
            </form>
            """))
    }

    func notFoundPage() -> Response {
        var response = html(HTML.page(title: "Not found", nav: [("Accounts", "/console/")], "<h1>Not found</h1>"))
        response.status = .notFound
        return response
    }

    /// The period of `?period=`, or the current month.
    func period(_ request: Request) throws(ConsoleError) -> Period {
        guard request.uri.queryParameters.get("period") != nil else {
            let today = now().civilDate
            return Period.month(year: today.year, month: today.month)
        }
        return try periodParameter(request)
    }

    func accountsPage(_ request: Request, viewer: ConsoleSettings.Viewer.Scope) async throws -> Response {
        let period = try period(request)
        var invoice = try await reading("the statement of \(period.label)") {
            try await StoredStatement.invoice(store: store, policy: policy, period: period, asOf: now())
        }
        if case .account(let own) = viewer { invoice = invoice.restricted(to: own) }
        let digits = invoice.amountDigits
        let closes = policy.closing.closes(period)
        let closing = now() >= closes ? "Closed on \(HTML.time(closes)): usage that arrives later is an adjustment on a later statement."
            : "Open until \(HTML.time(closes)); the figures may still grow."
        var rows = ""
        for a in invoice.accounts {
            let link = "/console/accounts/\(HTML.component(a.account))?period=\(period.label)"
            rows += "<tr data-account=\"\(HTML.escape(a.account))\"><td><a href=\"\(HTML.escape(link))\">\(HTML.escape(a.account))</a></td>"
            for (field, value) in [("charges", a.charges), ("carried_in", a.carriedIn), ("carried_out", a.carriedOut), ("due", a.due)] {
                rows += "<td class=\"num\" data-field=\"\(field)\">\(value.formatted(scale: digits))</td>"
            }
            rows += "</tr>\n"
        }
        if invoice.accounts.isEmpty { rows = "<tr><td colspan=\"5\" class=\"muted\">No usage in this period.</td></tr>" }
        let body = """
            <h1>Usage, \(HTML.escape(period.label)) <span class="muted">(\(HTML.escape(invoice.currency)))</span></h1>
            <div class="periods"><a href="/console/?period=\(period.previous.label)">← \(period.previous.label)</a>
            <a href="/console/?period=\(period.next.label)">\(period.next.label) →</a></div>
            <p class="muted" id="closing">\(HTML.escape(closing))</p>
            <div class="scroll"><table id="accounts">
            <thead><tr><th>Account</th><th class="num">Charges</th><th class="num">Carried in</th><th class="num">Carried out</th><th class="num">Due</th></tr></thead>
            <tbody>
            \(rows)
            <tr class="total"><td>Total</td><td></td><td></td><td></td><td class="num" data-field="total">\(invoice.total.formatted(scale: digits))</td></tr>
            </tbody></table></div>
            """
        return html(HTML.page(title: "Usage \(period.label)", nav: nav(viewer, period: period), body))
    }

    func accountPage(_ request: Request, account: String, viewer: ConsoleSettings.Viewer.Scope) async throws -> Response {
        let period = try period(request)
        let evidence = try await evidence(period)
        let invoice = StoredStatement.invoice(evidence: evidence, policy: policy, period: period, asOf: now()).restricted(to: account)
        let digits = invoice.amountDigits
        var plots = ""
        let daily = Self.usage(evidence, policy: policy, account: account, period: period, by: .day)
        let weekly = Self.usage(evidence, policy: policy, account: account, period: period, by: .week)
        for (day, week) in zip(daily, weekly) {
            plots += "<h3>\(HTML.escape(day.meter))</h3>\n<div class=\"plots\">"
            plots += UsagePlot.svg(title: "\(day.meter) per day", unit: day.unit, bars: day.points.map { ($0.cycle.label, $0.quantity) }, by: "day")
            plots += UsagePlot.svg(title: "\(week.meter) per week", unit: week.unit, bars: week.points.map { ($0.cycle.label, $0.quantity) }, by: "week")
            plots += "</div>\n"
        }
        if !plots.isEmpty { plots = "<h2>Usage per day and per week</h2>\n" + plots }
        var rows = ""
        for line in invoice.lines {
            let what = [line.description ?? line.item, line.detail].compactMap { $0 }.joined(separator: " · ")
            rows += "<tr data-item=\"\(HTML.escape(line.item))\" data-kind=\"\(line.kind.rawValue)\"><td>\(HTML.escape(what))</td><td>\(line.kind.rawValue)</td>"
            rows += "<td class=\"num\">\(InvoiceRendering.quantity(line.quantity)) \(HTML.escape(line.unit))</td>"
            rows += "<td class=\"num\">\(InvoiceRendering.price(line.unitPrice, digits: digits))</td>"
            rows += "<td class=\"num\" data-field=\"amount\">\(line.amount.formatted(scale: digits))</td></tr>\n"
        }
        if invoice.lines.isEmpty { rows = "<tr><td colspan=\"5\" class=\"muted\">No usage in this period.</td></tr>" }
        var meetingRows = ""
        for m in try await meetings(period) where m.account == account {
            let link = "/console/meetings/\(HTML.component(m.usage.meeting))?period=\(period.label)"
            meetingRows += "<tr data-meeting=\"\(HTML.escape(m.usage.meeting))\"><td><a href=\"\(HTML.escape(link))\">\(HTML.escape(m.usage.name ?? m.usage.meeting))</a></td>"
            meetingRows += "<td>\(HTML.time(m.usage.start))</td><td class=\"num\">\(m.usage.users.count)</td><td class=\"num\">\(m.usage.minutes)</td></tr>\n"
        }
        if meetingRows.isEmpty { meetingRows = "<tr><td colspan=\"4\" class=\"muted\">No meeting in this period.</td></tr>" }
        let base = "/console/accounts/\(HTML.component(account))"
        let body = """
            <h1>\(HTML.escape(account)), \(HTML.escape(period.label))</h1>
            <div class="periods"><a href="\(base)?period=\(period.previous.label)">← \(period.previous.label)</a>
            <a href="\(base)?period=\(period.next.label)">\(period.next.label) →</a></div>
            <p>Due: <strong id="due" data-field="due">\(invoice.total.formatted(scale: digits))</strong> \(HTML.escape(invoice.currency))</p>
            \(plots)
            <h2>Statement</h2>
            <div class="scroll"><table id="lines">
            <thead><tr><th>What</th><th>Kind</th><th class="num">Quantity</th><th class="num">Unit price</th><th class="num">Amount</th></tr></thead>
            <tbody>
            \(rows)
            </tbody></table></div>
            <h2>Meetings</h2>
            <div class="scroll"><table id="meetings">
            <thead><tr><th>Meeting</th><th>Started</th><th class="num">People</th><th class="num">Minutes</th></tr></thead>
            <tbody>
            \(meetingRows)
            </tbody></table></div>
            """
        return html(HTML.page(title: "\(account) \(period.label)", nav: nav(viewer, period: period), body))
    }

    func meetingPage(_ meeting: AccountedMeeting, stretches: [BillableStretch], records: [UsageRecord], period: Period) -> Response {
        let m = meeting.usage
        let recordLink = { (id: RecordID) in
            "/console/meetings/\(HTML.component(m.meeting))/records/\(HTML.component(id.rawValue))?period=\(period.label)"
        }
        func code(_ id: RecordID?) -> String {
            guard let id else { return "–" }
            return "<a href=\"\(HTML.escape(recordLink(id)))\"><code>\(HTML.escape(id.rawValue))</code></a>"
        }
        var rows = ""
        for p in m.users {
            for i in p.intervals {
                rows += "<tr data-user=\"\(HTML.escape(p.user))\"><td>\(HTML.escape(p.user))</td><td>\(HTML.escape(i.role))</td>"
                rows += "<td>\(HTML.time(i.start))</td><td>\(HTML.time(i.end))</td><td>\(i.closure.rawValue)</td>"
                rows += "<td>\(code(i.joinRecord))<br>\(code(i.endRecord))</td></tr>\n"
            }
        }
        var stretchRows = ""
        for s in stretches {
            stretchRows += "<tr data-reason=\"\(s.reason.rawValue)\"><td>\(HTML.escape(s.meter))</td><td>\(HTML.escape(s.user))</td>"
            stretchRows += "<td>\(HTML.time(s.start))</td><td>\(HTML.time(s.end))</td><td>\(s.billable ? "billed" : "not billed")</td><td>\(s.reason.rawValue)</td></tr>\n"
        }
        if stretchRows.isEmpty { stretchRows = "<tr><td colspan=\"6\" class=\"muted\">The policy bills no time of people in this meeting.</td></tr>" }
        let account = "/console/accounts/\(HTML.component(meeting.account))?period=\(period.label)"
        let body = """
            <h1>\(HTML.escape(m.name ?? m.meeting))</h1>
            <p class="muted">\(HTML.escape(m.meeting)) on \(HTML.escape(m.host)), account <a href="\(HTML.escape(account))">\(HTML.escape(meeting.account))</a>,
            \(HTML.time(m.start)) to \(m.end.map(HTML.time) ?? "still open"), \(m.minutes) minutes</p>
            \(TimelinePlot.svg(m, stretches: stretches, records: records, link: recordLink))
            <p class="legend"><span class="key admin"></span> moderator <span class="key admin-present"></span> billed, a moderator present
            <span class="key grace"></span> billed, grace after the last moderator left <span class="key no-admin"></span> not billed, no moderator
            <span class="key whiteboard"></span> whiteboard, billed <span class="key background-pause"></span> whiteboard, paused in the background
            <span class="key mark"></span> a record (open it)</p>
            <h2>Presence, and the records behind it</h2>
            <div class="scroll"><table id="presence">
            <thead><tr><th>Person</th><th>Role</th><th>From</th><th>To</th><th>Ended by</th><th>Records (join, end)</th></tr></thead>
            <tbody>
            \(rows)
            </tbody></table></div>
            <h2>Billed and not, and why</h2>
            <div class="scroll"><table id="stretches">
            <thead><tr><th>Meter</th><th>Person</th><th>From</th><th>To</th><th>Billed</th><th>Why</th></tr></thead>
            <tbody>
            \(stretchRows)
            </tbody></table></div>
            """
        return html(HTML.page(title: m.name ?? m.meeting, nav: [("Accounts", "/console/?period=\(period.label)"), (meeting.account, account)], body))
    }

    func recordPage(_ record: UsageRecord, meeting: AccountedMeeting, period: Period, viewer: ConsoleSettings.Viewer.Scope) -> Response {
        let line = RecordCodec.encode(record)
        var rows = ""
        if case .object(let fields) = Self.json(record) {
            for key in fields.keys.sorted() {
                let value = fields[key].map { v -> String in
                    if case .string(let text) = v { return text }
                    return v.serialized
                } ?? ""
                rows += "<tr data-field=\"\(HTML.escape(key))\"><th>\(HTML.escape(key))</th><td>\(HTML.escape(value))</td></tr>\n"
            }
        }
        let back = "/console/meetings/\(HTML.component(meeting.usage.meeting))?period=\(period.label)"
        let body = """
            <h1>Record <code>\(HTML.escape(record.id.rawValue))</code></h1>
            <p class="muted">\(HTML.escape(record.kind.rawValue)) at \(HTML.time(record.time)) from \(HTML.escape(record.host)), in
            <a href="\(HTML.escape(back))">\(HTML.escape(meeting.usage.name ?? meeting.usage.meeting))</a></p>
            <div class="scroll"><table id="record"><tbody>
            \(rows)
            </tbody></table></div>
            <h2>As sent (meetmeter-protocol(7))</h2>
            <pre class="line">\(HTML.escape(line))</pre>
            """
        return html(HTML.page(title: "Record \(record.id.rawValue)", nav: nav(viewer, period: period), body))
    }

    func recordingsPage(_ recordings: [Recording], period: Period, viewer: ConsoleSettings.Viewer.Scope) -> Response {
        var rows = ""
        for r in recordings {
            let steps = r.steps.map { "\($0.step) \(HTML.time($0.ended))" }.joined(separator: "<br>")
            let meeting = "/console/meetings/\(HTML.component(r.meeting))?period=\(period.label)"
            rows += "<tr data-recording=\"\(HTML.escape(r.recording))\"><td><code>\(HTML.escape(r.recording))</code></td>"
            rows += "<td><a href=\"\(HTML.escape(meeting))\">\(HTML.escape(r.meeting))</a></td><td>\(HTML.escape(r.account))</td>"
            rows += "<td>\(HTML.escape(r.host))</td><td>\(steps.isEmpty ? "–" : steps)</td>"
            rows += "<td class=\"num\" data-field=\"bytes\">\(r.bytes.map { Self.megabytes($0) } ?? "–")</td><td>\(r.sampled.map(HTML.time) ?? "–")</td></tr>\n"
        }
        if rows.isEmpty { rows = "<tr><td colspan=\"7\" class=\"muted\">No recording was processed or sampled in this period.</td></tr>" }
        let body = """
            <h1>Recordings, \(HTML.escape(period.label))</h1>
            <div class="periods"><a href="/console/recordings?period=\(period.previous.label)">← \(period.previous.label)</a>
            <a href="/console/recordings?period=\(period.next.label)">\(period.next.label) →</a></div>
            <div class="scroll"><table id="recordings">
            <thead><tr><th>Recording</th><th>Meeting</th><th>Account</th><th>Host</th><th>Processed</th><th class="num">Size</th><th>Sampled</th></tr></thead>
            <tbody>
            \(rows)
            </tbody></table></div>
            """
        return html(HTML.page(title: "Recordings \(period.label)", nav: nav(viewer, period: period), body))
    }

    /// Bytes as decimal megabytes with one decimal, as storage is billed in megabytes.
    static func megabytes(_ bytes: Int64) -> String {
        let tenths = (bytes + 50_000) / 100_000
        return "\(tenths / 10).\(tenths % 10) MB"
    }

    func hostsPage(_ hosts: [HostReport], period: Period) -> Response {
        var rows = ""
        for report in hosts {
            let h = report.stored
            let gaps = report.derived?.gaps ?? []
            let gapText = gaps.isEmpty ? "none" : gaps.map { "\(HTML.time($0.from)) to \(HTML.time($0.to))" }.joined(separator: "<br>")
            rows += "<tr data-host=\"\(HTML.escape(h.host))\" data-state=\"\(report.state)\"><td>\(HTML.escape(h.host))</td>"
            rows += "<td><span class=\"state \(report.state)\">\(report.state)</span></td><td class=\"num\">\(h.recordCount)</td>"
            rows += "<td>\(HTML.time(h.lastRecordTime))</td><td>\(HTML.time(h.lastReceived))</td><td class=\"num\">\(h.lagMicroseconds / 1_000_000) s</td>"
            rows += "<td>\(h.lastHeartbeat.map(HTML.time) ?? "never")</td><td class=\"num\">\(report.derived?.boots.count ?? 0)</td><td>\(gapText)</td></tr>\n"
        }
        if hosts.isEmpty { rows = "<tr><td colspan=\"9\" class=\"muted\">No host has sent a record yet.</td></tr>" }
        let body = """
            <h1>Hosts</h1>
            <p class="muted">Boots and heartbeat gaps in \(HTML.escape(period.label)); the rest as of now. A host is silent when its
            heartbeats are more than two intervals late, catching up when its latest record arrived more than two intervals after it was
            written (its agent is draining its spool). The agent's spool size is on its own metrics (meetmeter-agent(8), METRICS).</p>
            <div class="scroll"><table id="hosts">
            <thead><tr><th>Host</th><th>State</th><th class="num">Records</th><th>Last record</th><th>Last received</th><th class="num">Lag</th><th>Last heartbeat</th><th class="num">Boots</th><th>Heartbeat gaps</th></tr></thead>
            <tbody>
            \(rows)
            </tbody></table></div>
            """
        return html(HTML.page(title: "Hosts", nav: nav(.operator_, period: period), body))
    }
}
