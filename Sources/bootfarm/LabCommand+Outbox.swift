import ArgumentParser
import FarmAgent
import FarmCore
import FarmStore
import Foundation

extension LabCommand {
    struct Outbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the boots waiting to be uploaded to the results server, queue old ones, and push them.",
            discussion: """
                Shows, per server, how many boots are pending (and due now), how many the server \
                refused for good (rejected), when the oldest was queued and the last error. The \
                server is the lab file's server: section, or --server and --token. --backfill \
                queues the lab's stored boots (a lab joining a server with its history); \
                --retry-rejected queues refused boots again; --push uploads now, and with --wait \
                keeps retrying with backoff until nothing is pending. Exit status with --push: 0 \
                when the outbox is empty, 1 when only rejected boots remain, 3 when the server \
                cannot be reached (without --wait), 2 when it refuses the token.
                """)

        @Option(help: "The lab file (YAML).") var lab: String
        @Option(help: "Results store (SQLite file).") var db: String?
        @OptionGroup var upload: ServerOptions
        @Flag(help: "Upload the pending boots now.") var push = false
        @Flag(help: "With --push: keep retrying, with backoff, until no boot is pending.") var wait = false
        @Flag(help: "Queue the lab's stored boots that are not queued yet.") var backfill = false
        @Option(help: ArgumentHelp("With --backfill: only boots started at or after this time (ISO-8601).", valueName: "time"))
        var since: String?
        @Flag(help: "Queue the boots the server refused again.") var retryRejected = false
        @Flag(help: "Print JSON.") var json = false
        @Flag(name: .shortAndLong, help: "Print no progress.") var quiet = false

        func validate() throws {
            if wait && !push { throw ValidationError("--wait keeps a push going; add --push") }
            if since != nil && !backfill { throw ValidationError("--since limits --backfill; add --backfill") }
            if let since, ISOTimestamp.normalize(since) == nil {
                throw ValidationError("--since '\(since)': expected an ISO-8601 time such as 2026-01-31T12:00:00Z")
            }
        }

        func run() async throws {
            let labConfig = try loadLab(lab, checkDevices: false)
            let store = try openStore(db)
            let settings = upload.settings(for: labConfig)
            var done: [String: Any] = [:]
            if retryRejected {
                let count = try store.requeueRejectedUploads(server: settings?.url)
                done["requeued"] = count
                if !quiet { printError("queued \(count) rejected boot\(count == 1 ? "" : "s") again") }
            }
            if backfill {
                let server = try requireServer(settings, labConfig, for: "--backfill")
                let count = try store.queueUploads(lab: labConfig.name, server: server.url, since: since.flatMap(ISOTimestamp.normalize))
                done["queued"] = count
                if !quiet { printError("queued \(count) boot\(count == 1 ? "" : "s") of lab \(labConfig.name) for \(server.url)") }
            }
            var remaining = 0
            if push {
                let server = try requireServer(settings, labConfig, for: "--push")
                let uploader = try upload.uploader(server, lab: labConfig, store: store)
                let report = try await pushAll(uploader, labConfig)
                done["uploaded"] = report.uploaded
                done["refused"] = report.rejected
                remaining = try store.outboxSummary(server: server.url).rejected
            }
            try show(store, labConfig, server: settings?.url, done: done)
            if remaining > 0 {
                printError(
                    "\(remaining) boot\(remaining == 1 ? " was" : "s were") refused by the server; fix them, then push with --retry-rejected --push"
                )
                throw ExitCode(1)
            }
        }

        private func requireServer(_ settings: UploadSettings?, _ labConfig: LabConfig, for flag: String) throws -> UploadSettings {
            guard let settings else {
                throw CLIError.usage(
                    "\(flag) needs a results server, and lab \(labConfig.name) has none",
                    detail: "add server: {url: https://..., token_file: lab.token} to \(lab), or give --server URL --token TOKEN")
            }
            return settings
        }

        /// Pushes until nothing due is left (with --wait, until nothing is pending); throws when
        /// the server refuses the token or, without --wait, cannot be reached.
        private func pushAll(_ uploader: OutboxUploader, _ labConfig: LabConfig) async throws -> OutboxDrainReport {
            let store = uploader.store
            let server = uploader.server
            let printer = PushProgress(total: try store.pendingUploadCount(server: server), quiet: quiet, waiting: wait)
            var total = OutboxDrainReport()
            var first = true
            while true {
                // The first round sends everything: a push is the person saying "now".
                let report = try await uploader.drain(ignoringSchedule: first) { printer.show($0) }
                first = false
                total.uploaded += report.uploaded
                total.rejected += report.rejected
                switch report.ending {
                case .drained, .canceled:
                    let summary = try store.outboxSummary(server: server)
                    guard wait, summary.pending > 0 else { return total }
                    try await Self.sleep(untilISO: summary.nextAttemptAt)
                case .unavailable(let message, let retryAt):
                    guard wait else {
                        throw CLIError.infrastructure(
                            message,
                            detail: "\(try store.pendingUploadCount(server: server)) boots wait in the outbox; "
                                + "push again when the server is back, or add --wait to keep trying")
                    }
                    try await Self.sleep(until: retryAt)
                case .unauthorized(let message):
                    throw CLIError.usage(
                        "\(server) refused the lab's token: \(message)",
                        detail: "check --token or server.token/token_file in \(lab) (a token from 'bootfarm token create --lab "
                            + "\(labConfig.name)' on the server); the boots wait in the outbox")
                case .wrongAddress(let message):
                    throw CLIError.usage(
                        "\(server) takes no uploads: \(message)",
                        detail:
                            "check --server or server.url in \(lab): the address 'bootfarm serve' listens on; the boots wait in the outbox")
                }
            }
        }

        private static func sleep(until date: Date) async throws {
            // A few milliseconds past the time: the store keeps attempt times rounded up to them.
            try await Task.sleep(for: .seconds(max(0.01, date.timeIntervalSinceNow + 0.005)))
        }

        private static func sleep(untilISO text: String?) async throws {
            let seconds = text.flatMap(ISOTimestamp.epochSeconds) ?? Date().timeIntervalSince1970
            try await sleep(until: Date(timeIntervalSince1970: seconds))
        }

        /// Prints the outbox per server: JSON, or a few lines that say what to do next.
        private func show(_ store: ResultStore, _ labConfig: LabConfig, server: String?, done: [String: Any]) throws {
            var summaries = try store.outboxSummaries()
            if let server, !summaries.contains(where: { $0.server == server }) {
                summaries.append(OutboxSummary(server: server))
                summaries.sort { $0.server < $1.server }
            }
            let rejected = try store.outboxEntries(state: .rejected, limit: 100)
            if json {
                var object = done
                object["lab"] = labConfig.name
                object["store"] = store.path
                object["server"] = server
                object["servers"] = summaries.map(\.jsonObject)
                object["rejected"] = rejected.map(\.jsonObject)
                print(JSONOutput.text(object, pretty: true))
                return
            }
            print("outbox of lab \(labConfig.name) in \(store.path):")
            if summaries.isEmpty {
                print("  empty; no results server: add server: {url: ..., token_file: ...} to \(lab) to share the lab's boots")
            }
            for summary in summaries { print("  " + summary.line) }
            for entry in rejected {
                print("  rejected \(entry.bootID) by \(entry.server): \(entry.lastError)")
            }
            if !push, summaries.contains(where: { $0.pending > 0 && $0.server == server }) {
                print("push them with: bootfarm lab outbox --lab \(lab)\(db.map { " --db \($0)" } ?? "") --push")
            }
        }
    }
}

extension OutboxSummary {
    /// One line: counts, oldest queued boot, next attempt and last error.
    var line: String {
        guard pending > 0 || rejected > 0 else { return "\(server): nothing pending" }
        var text = "\(server): \(pending) pending (\(due) due now), \(rejected) rejected"
        if let oldestQueuedAt { text += "; oldest queued \(oldestQueuedAt)" }
        if let nextAttemptAt, due < pending { text += "; next attempt \(nextAttemptAt)" }
        if let lastError { text += "; last error: \(lastError)" }
        return text
    }

    var jsonObject: [String: Any] {
        var object: [String: Any] = ["server": server, "pending": pending, "due": due, "rejected": rejected]
        object["oldest_queued_at"] = oldestQueuedAt
        object["next_attempt_at"] = nextAttemptAt
        object["last_error"] = lastError
        return object
    }
}

extension OutboxEntry {
    var jsonObject: [String: Any] {
        var object: [String: Any] = [
            "boot": bootID, "server": server, "state": state.rawValue, "queued_at": queuedAt, "attempts": attempts, "error": lastError,
        ]
        object["last_attempt_at"] = lastAttemptAt
        return object
    }
}
