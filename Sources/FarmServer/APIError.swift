import FarmCore
import FarmReports
import FarmStore
import Hummingbird

/// A request the results server refuses, with what the client needs to fix it.
///
/// `status` is the one place errors become HTTP status codes; `APIErrorMiddleware` turns every
/// error a handler throws into one of these.
public enum APIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A query parameter or body field has a value the API cannot use.
    case invalidField(field: String, message: String)
    /// The body is not JSON; `line` and `column` (1-based) say where parsing stopped.
    case malformedJSON(line: Int, column: Int, message: String)
    /// No token, or one the server does not know or that was revoked.
    case unauthorized(message: String)
    /// A valid token that may not do this.
    case forbidden(message: String)
    /// The path names nothing stored.
    case notFound(message: String)
    /// The body is longer than the server accepts.
    case bodyTooLarge(limitBytes: Int)
    /// The server failed (its store, most likely); the message says what failed.
    case internalFailure(message: String)

    /// The HTTP status the error is answered with.
    public var status: HTTPResponse.Status {
        switch self {
        case .invalidField, .malformedJSON: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .bodyTooLarge: .contentTooLarge
        case .internalFailure: .internalServerError
        }
    }

    /// The field at fault, when one is.
    public var field: String? {
        if case .invalidField(let field, _) = self { return field }
        return nil
    }

    public var description: String {
        switch self {
        case .invalidField(let field, let message): "\(field): \(message)"
        case .malformedJSON(let line, let column, let message): "malformed JSON at line \(line), column \(column): \(message)"
        case .unauthorized(let message), .forbidden(let message), .notFound(let message), .internalFailure(let message): message
        case .bodyTooLarge(let limitBytes): "the request body is larger than the server accepts (\(limitBytes) bytes)"
        }
    }

    /// The API error any thrown error is answered with.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as ReportError:
            return .notFound(message: error.description)
        case let error as StoreError:
            return .internalFailure(message: error.description)
        case let error as any HTTPResponseError:
            switch error.status {
            case .contentTooLarge: return .bodyTooLarge(limitBytes: 0)
            case .notFound: return .notFound(message: "no such path")
            case .methodNotAllowed: return .notFound(message: "method not allowed on this path")
            default: return .invalidField(field: "", message: "\(error)")
            }
        default:
            return .internalFailure(message: "\(error)")
        }
    }
}
