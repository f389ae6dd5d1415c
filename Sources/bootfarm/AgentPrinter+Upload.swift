import FarmAgent
import FarmCore
import Foundation

extension AgentPrinter {
    /// One line on what the background upload did; problems show even with --quiet.
    func print(_ progress: OutboxProgress, server: String, time: String) {
        switch progress {
        case .uploaded(let count, let pending):
            guard !quiet else { return }
            printError("\(time) upload: \(count) boot\(count == 1 ? "" : "s") to \(server), \(pending) pending")
        case .rejected(let bootID, let message):
            printError("\(time) upload: \(server) refused boot \(bootID): \(message); kept as rejected (see bootfarm lab outbox)")
        case .unavailable(let message, let retryAt, let pending):
            let seconds = max(0, retryAt.timeIntervalSinceNow)
            printError(String(format: "%@ upload: %@; %d pending, next attempt in %.0f s", time, message, pending, seconds))
        case .refusedAccess(let message, let pending):
            printError(
                "\(time) upload: \(server) refused the uploads: \(message); \(pending) pending until the lab's server token or url is fixed"
            )
        case .storeFailed(let message):
            printError("\(time) upload: \(message)")
        }
    }

    /// The JSON line of an upload event.
    func object(_ progress: OutboxProgress, server: String) -> [String: Any] {
        switch progress {
        case .uploaded(let count, let pending):
            return ["event": "uploaded", "server": server, "count": count, "pending": pending]
        case .rejected(let bootID, let message):
            return ["event": "upload_rejected", "server": server, "boot": bootID, "error": message]
        case .unavailable(let message, let retryAt, let pending):
            return [
                "event": "upload_failed", "server": server, "error": message, "pending": pending,
                "retry_at": ISOTimestamp.format(retryAt.timeIntervalSince1970),
            ]
        case .refusedAccess(let message, let pending):
            return ["event": "upload_refused", "server": server, "error": message, "pending": pending]
        case .storeFailed(let message):
            return ["event": "upload_store_failed", "server": server, "error": message]
        }
    }
}
