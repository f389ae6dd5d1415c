import FarmStore
import Foundation

extension OutboxUploader {
    /// Uploads in the background until `wakeUps` finishes or the task is canceled. Each wake-up
    /// (a boot was recorded, a timer ticked) drains the outbox when a boot in it is due, so a
    /// timer that ticks while the server is away costs one store query, not a request. Never
    /// throws and never stops because of the server: everything goes to `progress`.
    public func run(wakeUps: AsyncStream<Void>, progress: (OutboxProgress) -> Void) async {
        for await _ in wakeUps {
            if Task.isCancelled { return }
            do {
                guard try store.hasDueUploads(server: server) else { continue }
                _ = try await drain(progress: progress)
            } catch {
                progress(.storeFailed(message: error.description))
            }
        }
    }
}
