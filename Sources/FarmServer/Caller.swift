import FarmStore
import Foundation

/// Who sent a request, as its `Authorization` header says.
enum Caller: Sendable, Equatable {
    /// No token: may read unless the server is private.
    case anonymous
    /// A lab token: may submit and delete the boots of `lab`, and read.
    case lab(String)
    /// An admin token: may do anything.
    case admin

    /// The caller named by `authorization` (the header's value), checked against the store.
    /// A header without a known, unrevoked token is refused, never treated as anonymous.
    static func identify(authorization: String?, store: ResultStore) throws -> Caller {
        guard let authorization else { return .anonymous }
        let parts = authorization.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError.unauthorized(message: "the Authorization header must be 'Bearer TOKEN'")
        }
        let secret = APITokenSecret(text: parts[1].trimmingCharacters(in: .whitespaces))
        guard let token = try store.token(secretSHA256: secret.sha256) else {
            throw APIError.unauthorized(message: "unknown token; create one with: bootfarm token create")
        }
        if let revokedAt = token.revokedAt {
            throw APIError.unauthorized(message: "token \(token.id) was revoked at \(revokedAt)")
        }
        switch token.role {
        case .admin: return .admin
        case .lab:
            guard let lab = token.lab else { throw APIError.forbidden(message: "token \(token.id) names no lab") }
            return .lab(lab)
        }
    }

    /// Throws unless the caller may write the boots of `lab`; `what` names the record for the message.
    func requireWrite(lab: String, what: String) throws {
        switch self {
        case .admin: return
        case .anonymous: throw APIError.unauthorized(message: "writing needs a token: send 'Authorization: Bearer TOKEN'")
        case .lab(let own):
            guard own == lab else {
                throw APIError.forbidden(message: "\(what) belongs to lab '\(lab)'; this token may only write lab '\(own)'")
            }
        }
    }
}
