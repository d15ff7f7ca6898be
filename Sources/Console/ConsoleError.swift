import Hummingbird

/// An answer other than 200, with what the caller may be told.
struct ConsoleError: Error {
    var status: HTTPResponse.Status
    var message: String

    /// Missing or wrong token: no detail.
    static let unauthorized = ConsoleError(status: .unauthorized, message: "unauthorized")
    /// Not there, or not this viewer's: the same answer either way, so that an account learns
    /// nothing of the others.
    static let notFound = ConsoleError(status: .notFound, message: "not found")

    static func badRequest(_ message: String) -> ConsoleError { ConsoleError(status: .badRequest, message: message) }
}
