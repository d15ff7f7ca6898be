import Aggregation

/// Who a request is, from its `Authorization: Bearer TOKEN`: the operator, an account, or nobody.
/// Every configured token is compared, each in time that does not depend on where it differs, so
/// that timing tells nothing of a token; tokens are never logged.
struct ConsoleAccess: Sendable {
    let viewers: [ConsoleSettings.Viewer]

    func scope(authorization: String?) -> ConsoleSettings.Viewer.Scope? {
        // The scheme's name is case-insensitive (RFC 9110, 11.1).
        guard let authorization, authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return nil }
        return scope(token: String(authorization.dropFirst(7)))
    }

    /// A browser's token, from the sign-in form or its cookie.
    func scope(token: String) -> ConsoleSettings.Viewer.Scope? {
        let presented = Array(token.utf8)
        if presented.isEmpty { return nil }
        var found: ConsoleSettings.Viewer.Scope?
        for viewer in viewers where Self.equalInConstantTime(Array(viewer.token.utf8), presented) {
            found = viewer.scope
        }
        return found
    }

    static func equalInConstantTime(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for i in 0..<max(a.count, b.count) {
            difference |= (i < a.count ? a[i] : 0) ^ (i < b.count ? b[i] : 0)
        }
        return difference == 0
    }
}

extension ConsoleSettings.Viewer.Scope {
    /// Whether this viewer may see `account`'s figures.
    func sees(_ account: String) -> Bool {
        switch self {
        case .operator_: true
        case .account(let own): own == account
        }
    }

    var isOperator: Bool { self == .operator_ }
}
