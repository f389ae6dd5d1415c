import ArgumentParser
import FarmAgent
import FarmCore
import FarmStore
import Foundation

struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run a lab unattended: take queued jobs and boot them on its boards.",
        discussion: """
            Runs every board concurrently, one job per board at a time, highest priority and oldest \
            first. A board whose job ends in an infrastructure error is health-checked (its board \
            type's health_check) before its next job, and goes offline after the lab's \
            agent.health_failures_offline failed checks in a row. Infrastructure errors are retried \
            (on another board of the type when there is one); kernel failures are not, unless the \
            job asks to confirm them. SIGTERM or Ctrl-C cancels running jobs (recorded as canceled, \
            boards powered off). After a crash, the next start records the jobs that were running \
            as errors (agent restarted) and switches their boards off. With a results server (the \
            lab file's server: section, or --server and --token), every job's boot is queued in \
            the outbox as it is recorded and uploaded in the background; while the server is away \
            boots wait there and are retried with backoff ('bootfarm lab outbox' shows them).
            """)

    @Option(help: "The lab file (YAML).") var lab: String
    @Option(help: "Results store and job queue (SQLite file).") var db: String?
    @Option(help: "Folder for downloaded kernels (default: beside the store).") var cache: String?
    @OptionGroup var upload: ServerOptions
    @Flag(help: "Stop once nothing runs and no queued job can run.") var exitWhenIdle = false
    @Flag(help: "Print events as JSON lines on standard output.") var json = false
    @Flag(name: .shortAndLong, help: "Print only finished jobs.") var quiet = false
    @Flag(name: .shortAndLong, help: "Print every boot stage and command.") var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose contradict each other; use one") }
        if json && (quiet || verbose) { throw ValidationError("--json prints every event; it contradicts --quiet and --verbose") }
    }

    func run() async throws {
        let labConfig = try loadLab(lab)
        let store = try openStore(db)
        let cacheFolder = cache ?? URL(fileURLWithPath: store.path).deletingLastPathComponent().appendingPathComponent("cache").path
        let uploader = try upload.uploader(for: labConfig, store: store)
        let printer = AgentPrinter(json: json, quiet: quiet, verbose: verbose)
        let agent = LabAgent(
            lab: labConfig, store: store, options: LabAgent.Options(cacheFolder: cacheFolder, exitWhenIdle: exitWhenIdle),
            uploader: uploader, onEvent: { printer.print($0) })
        let trap = SignalTrap(message: "bootfarm: stopping the agent: canceling running jobs, powering boards off") { agent.stop() }
        defer { trap.disarm() }
        do {
            try await agent.run()
        } catch let error as AgentError {
            throw CLIError.usage("\(error)")
        } catch {
            throw CLIError.infrastructure(
                "agent stopped: \(error)", detail: "the job queue is kept in \(store.path); start the agent again")
        }
    }
}

/// Prints agent events: one line each, prefixed with the time of day and the board.
struct AgentPrinter: Sendable {
    var json: Bool
    var quiet: Bool
    var verbose: Bool

    func print(_ event: AgentEvent) {
        if json {
            Self.emit(JSONOutput.text(object(event)))
            return
        }
        let time = Self.clock()
        switch event {
        case .started(let boards, let recovered):
            guard !quiet else { return }
            printError(
                "\(time) agent: \(boards) boards\(recovered.isEmpty ? "" : "; recorded jobs \(recovered.map(String.init).joined(separator: ", ")) as error (agent restarted)")"
            )
        case .attemptStarted(let board, let jobID, let attempt):
            guard !quiet else { return }
            printError("\(time) \(board): \(jobID.map { "job \($0) attempt \(attempt)" } ?? "health check")")
        case .progress(let board, let jobID, let progress):
            guard verbose else { return }
            let label = jobID.map { "job \($0)" } ?? "health"
            switch progress {
            case .stage(let stage, let seconds, let detail):
                printError(
                    String(
                        format: "%@ %@ %@ %7.2fs %@", time, board, label, seconds,
                        detail.isEmpty ? stage.rawValue : "\(stage.rawValue): \(detail)"))
            case .command(let command, let seconds):
                printError(String(format: "%@ %@ %@ %7.2fs > %@", time, board, label, seconds, command))
            case .note(let note, let seconds):
                printError(String(format: "%@ %@ %@ %7.2fs %@", time, board, label, seconds, note))
            }
        case .attemptFinished(let board, let jobID, let record, let tests):
            guard !quiet else { return }
            let passed = tests.filter { $0.result == .pass }.count
            let testText = tests.isEmpty ? "" : " tests \(passed)/\(tests.count) passed"
            printError("\(time) \(board): \(jobID.map { "job \($0)" } ?? "health check") \(ResultLine.text(record))\(testText)")
        case .jobFinished(let job):
            Self.emit("job \(job.id) \(job.result?.rawValue ?? job.state.rawValue) on \(job.runningOn ?? "-"): \(job.summary)")
        case .jobRetried(let job, let reason):
            guard !quiet else { return }
            printError("\(time) job \(job.id): again: \(reason)")
        case .boardChanged(let status):
            guard !quiet || status.state == .offline else { return }
            printError(
                "\(time) \(status.board): \(status.state.rawValue), health \(status.health.rawValue)\(status.note.isEmpty ? "" : " (\(status.note))")"
            )
        case .stopping(let running):
            printError("\(time) agent: stopping, canceling \(running) running job\(running == 1 ? "" : "s")")
        case .upload(let server, let progress):
            print(progress, server: server, time: time)
        }
    }

    private func object(_ event: AgentEvent) -> [String: Any] {
        switch event {
        case .started(let boards, let recovered): return ["event": "started", "boards": boards, "recovered_jobs": recovered]
        case .attemptStarted(let board, let jobID, let attempt):
            var object: [String: Any] = ["event": "attempt_started", "board": board, "attempt": attempt]
            object["job"] = jobID
            return object
        case .progress(let board, let jobID, let progress):
            var object: [String: Any] = ["event": "progress", "board": board]
            object["job"] = jobID
            switch progress {
            case .stage(let stage, let seconds, let detail):
                object["stage"] = stage.rawValue
                object["seconds"] = seconds
                object["detail"] = detail
            case .command(let command, let seconds):
                object["command"] = command
                object["seconds"] = seconds
            case .note(let note, let seconds):
                object["note"] = note
                object["seconds"] = seconds
            }
            return object
        case .attemptFinished(let board, let jobID, let record, let tests):
            var object: [String: Any] = [
                "event": "attempt_finished", "board": board, "boot": record.jsonObject, "tests": tests.map(\.jsonObject),
            ]
            object["job"] = jobID
            return object
        case .jobFinished(let job): return ["event": "job_finished", "job": job.jsonObject]
        case .jobRetried(let job, let reason): return ["event": "job_retried", "job": job.jsonObject, "reason": reason]
        case .boardChanged(let status): return ["event": "board_changed", "board": status.jsonObject]
        case .stopping(let running): return ["event": "stopping", "running": running]
        case .upload(let server, let progress): return object(progress, server: server)
        }
    }

    /// One line on standard output, at once (events from many boards interleave by line).
    static func emit(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func clock() -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "HH:mm:ss"
        return formatter.string(from: Date())
    }
}

extension BoardStatus {
    var jsonObject: [String: Any] {
        var object: [String: Any] = [
            "lab": lab, "board": board, "state": state.rawValue, "health": health.rawValue, "health_failures": healthFailures,
            "note": note, "updated_at": updatedAt,
        ]
        object["current_job"] = currentJob
        object["powered_since"] = poweredSince
        return object
    }
}
