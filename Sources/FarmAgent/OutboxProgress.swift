import Foundation

/// What an upload of the outbox did, reported as it happens.
public enum OutboxProgress: Sendable, Equatable {
    /// The server stored `count` boots; `pending` still wait.
    case uploaded(count: Int, pending: Int)
    /// The server refused boot `bootID` for good; it stays in the outbox as rejected.
    case rejected(bootID: String, message: String)
    /// The server cannot take boots now; the `pending` ones wait until `retryAt`.
    case unavailable(message: String, retryAt: Date, pending: Int)
    /// The server refused the token (or nothing at its URL takes uploads); the `pending` boots
    /// wait until the token or URL is fixed.
    case refusedAccess(message: String, pending: Int)
    /// The store failed while uploading (background uploads only; `drain` throws instead).
    case storeFailed(message: String)
}
