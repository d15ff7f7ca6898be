import Hummingbird
import Logging
import NIOCore
import UsageRecords

/// Every answer of the console: errors as JSON with their status, and the security headers on
/// all of them (nothing cached, nothing sniffed or framed, no referrer, no script or style
/// from anywhere for a JSON answer).
typealias HTTPField = HTTPFields.Element

struct ConsoleResponses<Context: RequestContext>: RouterMiddleware {
    let logger: Logger
    let https: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            // Read-only: any other method is refused before routing.
            let signing = request.method == .post && (request.uri.path == "/console/login" || request.uri.path == "/console/logout")
            guard request.method == .get || request.method == .head || signing else {
                throw ConsoleError(status: .methodNotAllowed, message: "only GET")
            }
            response = try await next(request, context)
        } catch let error as ConsoleError {
            response = Self.error(error)
        } catch let error as HTTPError {
            response = Self.error(ConsoleError(status: error.status, message: error.status == .notFound ? "not found" : error.status.reasonPhrase))
        } catch {
            logger.error("console: request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            response = Self.error(ConsoleError(status: .internalServerError, message: "internal error"))
        }
        Self.secure(&response.headers)
        if https { response.headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000" }
        return response
    }

    static func secure(_ headers: inout HTTPFields) {
        headers[.cacheControl] = "no-store"
        headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        // A page sets its own (it loads the stylesheet and posts its forms); everything else loads nothing.
        if headers[HTTPField.Name("Content-Security-Policy")!] == nil {
            headers[HTTPField.Name("Content-Security-Policy")!] = "default-src 'none'; frame-ancestors 'none'"
        }
        headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
    }

    static func error(_ error: ConsoleError) -> Response {
        var response = Answer.json(.object(["error": .string(error.message)]))
        response.status = error.status
        if error.status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        if error.status == .methodNotAllowed { response.headers[.allow] = "GET, HEAD" }
        return response
    }
}

/// The bodies the console answers with.
enum Answer {
    static func json(_ value: JSONValue) -> Response { json(text: value.serialized + "\n") }

    static func json(text: String) -> Response { body(text, type: "application/json; charset=utf-8") }

    static func body(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
