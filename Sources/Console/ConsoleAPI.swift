import Aggregation
import Billing
import Hummingbird
import Logging
import RecordStorage
import Statements
import UsageRecords

/// The read-only JSON API under `/api/v1/` (described by `OpenAPIDocument`, served at
/// `/api/v1/openapi.json`). Every figure is rated from the store on each request, under the
/// console's billing policy, exactly as `meetmeter report --policy` rates it: the same records
/// give the same amounts to the cent, whichever aggregator of a fleet answers.
public struct ConsoleAPI: Sendable {
    let store: any RecordStore
    let policy: BillingPolicy
    let access: ConsoleAccess
    let logger: Logger
    let now: @Sendable () -> Timestamp
    /// Served over HTTPS: the sign-in cookie is marked Secure, and browsers are told to keep to HTTPS.
    let https: Bool

    public init(settings: ConsoleSettings, policy: BillingPolicy, store: any RecordStore, logger: Logger,
                now: @escaping @Sendable () -> Timestamp = { SystemClock.now() }) {
        self.store = store
        self.policy = policy
        self.access = ConsoleAccess(viewers: settings.viewers)
        self.logger = logger
        self.now = now
        self.https = settings.tls != nil
    }

    /// The routes, behind the headers and error answers every response gets.
    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: ConsoleResponses<BasicRequestContext>(logger: logger, https: https))
        router.get("/api/v1/openapi.json") { _, _ in Answer.json(text: OpenAPIDocument.text) }
        router.get("/api/v1/accounts") { request, _ in try await accounts(request) }
        router.get("/api/v1/accounts/:account/statement") { request, context in
            let account = try pathParameter(context, "account")
            let viewer = try viewer(request)
            guard viewer.sees(account) else { throw ConsoleError.notFound }
            // An account without usage in the period has a statement of nothing, not a 404.
            return try render(try await statement(request).restricted(to: account), request)
        }
        router.get("/api/v1/statement") { request, _ in
            guard try viewer(request).isOperator else { throw ConsoleError.notFound }
            return try render(try await statement(request), request)
        }
        addMeetingRoutes(to: router)
        addUsageRoutes(to: router)
        addRecordingRoutes(to: router)
        addHostRoutes(to: router)
        addPages(to: router)
        return router
    }

    /// A path segment as meant: Hummingbird matches the raw path, so `%XX` escapes are undone
    /// here (an account named "Acme Corp" arrives as `Acme%20Corp`).
    func pathParameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        let raw = try context.parameters.require(name)
        guard let decoded = HTML.percentDecoded(raw) else { throw ConsoleError.badRequest("\(name): not a valid percent-encoded path segment") }
        return decoded
    }

    func viewer(_ request: Request) throws(ConsoleError) -> ConsoleSettings.Viewer.Scope {
        guard let scope = access.scope(authorization: request.headers[.authorization]) else { throw ConsoleError.unauthorized }
        return scope
    }

    /// `GET /api/v1/accounts?period=P`: each account's charges and what it is due (only the
    /// viewer's own for an account token), and whether the period has closed.
    func accounts(_ request: Request) async throws -> Response {
        let viewer = try viewer(request)
        let at = asOf(request)
        var invoice = try await statement(request, asOf: at)
        if case .account(let own) = viewer { invoice = invoice.restricted(to: own) }
        guard case .object(var whole) = InvoiceRendering.jsonValue(invoice) else { throw ConsoleError(status: .internalServerError, message: "no statement") }
        for key in ["lines", "notes", "warnings"] { whole[key] = nil }
        whole["as_of"] = at.map { .string($0.rfc3339) } ?? .null
        // Closed: usage received from now on for the period is an adjustment on a later statement.
        let closes = policy.closing.closes(invoice.period)
        whole["closes"] = .string(closes.rfc3339)
        whole["closed"] = at.map { .bool($0 >= closes) } ?? .null
        return Answer.json(.object(whole))
    }

    /// The statement of `period` as it stood at `as_of` (default now), or with `rerate=true`
    /// the period rated with every record known now.
    func statement(_ request: Request, asOf given: Timestamp?? = nil) async throws -> Invoice {
        let query = request.uri.queryParameters
        let period = try periodParameter(request)
        _ = try invoiceFormat(request) // refused before the store is read
        if let rerate = query.get("rerate"), rerate != "true" && rerate != "false" {
            throw ConsoleError.badRequest("rerate: true or false, not '\(rerate)'")
        }
        if let text = query.get("as_of"), Timestamp(rfc3339: text) == nil {
            throw ConsoleError.badRequest("as_of: '\(text)' is not an RFC 3339 time such as 2026-12-01T00:00:00Z")
        }
        let at = given ?? asOf(request)
        return try await reading("the statement of \(period.label)") {
            try await StoredStatement.invoice(store: store, policy: policy, period: period, asOf: at)
        }
    }

    /// nil with `rerate=true`.
    func asOf(_ request: Request) -> Timestamp? {
        let query = request.uri.queryParameters
        if query.get("rerate") == "true" { return nil }
        return query.get("as_of").flatMap { Timestamp(rfc3339: $0) } ?? now()
    }

    func render(_ invoice: Invoice, _ request: Request) throws -> Response {
        let format = try invoiceFormat(request)
        let text = InvoiceRendering.render(invoice, format: format)
        switch format {
        case .csv: return Answer.body(text, type: "text/csv; charset=utf-8")
        case .stripe: return Answer.body(text, type: "application/x-ndjson")
        default: return Answer.json(text: text)
        }
    }

    /// `format=`: json (the default), csv or stripe.
    func invoiceFormat(_ request: Request) throws(ConsoleError) -> InvoiceFormat {
        let name = request.uri.queryParameters.get("format") ?? "json"
        guard let format = InvoiceFormat(rawValue: String(name)), format != .table else {
            throw ConsoleError.badRequest("format: one of json, csv, stripe")
        }
        return format
    }

    /// A store read; its failure is logged whole and answered 503 without the details.
    func reading<T: Sendable>(_ what: String, _ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as ConsoleError {
            throw error
        } catch {
            logger.error("console: cannot read \(what)", metadata: ["error": "\(error)"])
            throw ConsoleError(status: .serviceUnavailable, message: "the store cannot be read now")
        }
    }
}
