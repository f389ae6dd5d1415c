import FarmAgent
import FarmCore
import FarmStore

extension BootCommand {
    /// Makes the one upload attempt after a boot was recorded with its outbox entry (the outbox's
    /// older boots go along). Whatever the server does, the boot's exit status stays; a boot the
    /// server did not take waits in the outbox, and the message says how to push it.
    func share(_ record: BootRecord, with uploader: OutboxUploader) async {
        let server = uploader.server
        let push = "bootfarm lab outbox --lab \(lab)\(db.map { " --db \($0)" } ?? "") --push"
        let report: OutboxDrainReport
        let entry: OutboxEntry?
        do {
            report = try await uploader.drain(ignoringSchedule: true)
            entry = try uploader.store.outboxEntry(bootID: record.id, server: server)
        } catch {
            printError("bootfarm: the boot is recorded but its upload to \(server) failed: \(error)")
            printError("push it later with: \(push)")
            return
        }
        guard let entry else {
            if !quiet { printError("uploaded to \(server)") }
            return
        }
        if entry.state == .rejected {
            printError("bootfarm: \(server) refused the record: \(entry.lastError)")
            printError(
                "it is kept in the outbox as rejected (bootfarm lab outbox --lab \(lab)); fix it, then push it with --retry-rejected --push"
            )
            return
        }
        switch report.ending {
        case .unauthorized(let message):
            printError("bootfarm: \(server) refused the token: \(message); check --token or server.token in \(lab)")
        case .wrongAddress(let message):
            printError("bootfarm: \(server) takes no uploads: \(message); check --server or server.url in \(lab)")
        case .unavailable(let message, _):
            printError("bootfarm: \(message)")
        case .drained, .canceled:
            printError("bootfarm: the record was not uploaded to \(server) (\(entry.lastError.isEmpty ? "not sent" : entry.lastError))")
        }
        printError("the record waits in the outbox; push it with: \(push)")
    }
}
