import FarmAgent
import Foundation

/// Prints how a push goes on standard error: `uploaded 300 of 1000` at most once a second (and
/// when done), every boot the server refuses, and, when the push waits, each wait for the server.
final class PushProgress {
    private var uploaded = 0
    private var total: Int
    private var lastPrinted = Date.distantPast
    private let quiet: Bool
    private let waiting: Bool

    /// `total` boots are pending as the push starts; `waiting` when it retries until they are sent.
    init(total: Int, quiet: Bool, waiting: Bool) {
        self.total = total
        self.quiet = quiet
        self.waiting = waiting
    }

    func show(_ progress: OutboxProgress) {
        switch progress {
        case .uploaded(let count, let pending):
            uploaded += count
            total = max(total, uploaded + pending)
            guard !quiet, pending == 0 || Date().timeIntervalSince(lastPrinted) >= 1 else { return }
            lastPrinted = Date()
            printError("uploaded \(uploaded) of \(total)")
        case .rejected(let bootID, let message):
            printError("refused \(bootID): \(message)")
        case .unavailable(let message, let retryAt, let pending):
            // Without --wait the push stops with an error that says it.
            guard !quiet, waiting else { return }
            printError(String(format: "%@; %d pending, trying again in %.1f s", message, pending, max(0, retryAt.timeIntervalSinceNow)))
        case .refusedAccess, .storeFailed:
            // The push stops with an error that says it.
            break
        }
    }
}
