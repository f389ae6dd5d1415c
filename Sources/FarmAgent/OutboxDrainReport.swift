import Foundation

/// What one `OutboxUploader.drain()` did, and why it stopped.
public struct OutboxDrainReport: Sendable, Equatable {
    /// Why a drain stopped.
    public enum Ending: Sendable, Equatable {
        /// Nothing due is left (pending boots may wait for a later attempt).
        case drained
        /// The server cannot take boots now (no answer, 5xx, 429); they wait until `retryAt`.
        case unavailable(message: String, retryAt: Date)
        /// The server refused the token (401): fix it; the boots wait.
        case unauthorized(message: String)
        /// Nothing at the server's URL takes uploads (404, 405): fix the URL; the boots wait.
        case wrongAddress(message: String)
        /// The task was canceled between requests.
        case canceled
    }

    /// Boots the server stored.
    public var uploaded = 0
    /// Boots the server refused for good.
    public var rejected = 0
    public var ending = Ending.drained

    public init(uploaded: Int = 0, rejected: Int = 0, ending: Ending = .drained) {
        self.uploaded = uploaded
        self.rejected = rejected
        self.ending = ending
    }
}
