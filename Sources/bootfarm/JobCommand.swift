import ArgumentParser
import FarmCore
import FarmStore
import Foundation

struct JobCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "job",
        abstract: "Queue boot jobs for a lab's agent, and follow them.",
        subcommands: [Submit.self, List.self, Show.self, Cancel.self]
    )

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a job file against a lab and queue it (once, or once per board with all_boards).")

        @Argument(help: "The job file (YAML).") var file: String
        @Option(help: "The lab file of the agent that will run it.") var lab: String
        @Option(help: "Results store and job queue (SQLite file).") var db: String?
        @Flag(help: "Print the queued job ids as JSON.") var json = false
        @Flag(name: .shortAndLong, help: "Print only the job ids.") var quiet = false

        func validate() throws {
            if json && quiet { throw ValidationError("--json and --quiet contradict each other; use one") }
        }

        func run() async throws {
            let labConfig = try loadLab(lab, checkDevices: false)
            let spec: JobSpec
            do {
                spec = try JobSpec.load(file, lab: labConfig)
            } catch {
                throw CLIError.usage(error.description, detail: "nothing was queued; fix the job file and submit it again")
            }
            let store = try openStore(db)
            let ids = try store.submit(spec, lab: labConfig.name, boards: labConfig.boards, source: file)
            if json {
                print(JSONOutput.text(["jobs": ids, "lab": labConfig.name], pretty: true))
            } else if quiet {
                for id in ids { print(id) }
            } else {
                let target: String
                switch spec.target {
                case .board(let name): target = "board \(name)"
                case .boardType(let type, let all): target = all ? "every board of type \(type)" : "a board of type \(type)"
                }
                print(
                    "queued job\(ids.count == 1 ? "" : "s") \(ids.map(String.init).joined(separator: ", ")) for \(target) in lab \(labConfig.name)"
                )
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List jobs, newest first.")

        @Option(help: "Only jobs of this lab (its name).") var lab: String?
        @Option(help: "Only jobs in this state: queued, running, done, canceled.") var state: [String] = []
        @Option(help: "At most this many jobs.") var limit = 50
        @Option(help: "Results store and job queue (SQLite file).") var db: String?
        @Flag(help: "Print JSON.") var json = false

        func validate() throws {
            for name in state where JobState(rawValue: name) == nil {
                throw ValidationError("--state '\(name)': expected one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if limit < 1 { throw ValidationError("--limit must be at least 1") }
        }

        func run() async throws {
            let store = try openStore(db)
            let jobs = try store.jobs(lab: lab, states: state.compactMap(JobState.init(rawValue:)), limit: limit)
            if json {
                print(JSONOutput.text(jobs.map(\.jsonObject), pretty: true))
                return
            }
            if jobs.isEmpty {
                print("no jobs")
                return
            }
            for job in jobs {
                let board = job.runningOn ?? job.board ?? job.boardType
                let outcome = job.result.map { " \($0.rawValue)" } ?? ""
                let describe = job.spec.revision.describe.isEmpty ? "" : " \(job.spec.revision.describe)"
                print(
                    "\(String(job.id).leftPadded(6))  \(job.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)) prio \(job.priority)  \(board)\(describe)\(outcome)  \(job.summary)"
                )
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a job, its attempts and their test results.")

        @Argument(help: "The job id.") var id: Int
        @Option(help: "Results store and job queue (SQLite file).") var db: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let store = try openStore(db)
            guard let job = try store.job(id: id) else {
                throw CLIError.unknownJob(id, store: store)
            }
            var attempts: [[String: Any]] = []
            var lines: [String] = []
            for bootID in try store.bootIDs(jobID: id) {
                guard let record = try store.boot(id: bootID) else { continue }
                let tests = try store.tests(bootID: bootID)
                var object = record.jsonObject
                object["tests"] = tests.map(\.jsonObject)
                attempts.append(object)
                lines.append("  attempt: \(ResultLine.text(record)) (\(record.id))")
                for test in tests {
                    var line = "    test \(test.name): \(test.result.rawValue)"
                    if let measurement = test.measurement { line += " \(measurement)\(test.units.map { " \($0)" } ?? "")" }
                    lines.append(line)
                }
            }
            if json {
                var object = job.jsonObject
                object["attempts"] = attempts
                print(JSONOutput.text(object, pretty: true))
                return
            }
            print("job \(job.id): \(job.state.rawValue)\(job.result.map { ", \($0.rawValue)" } ?? "") — \(job.summary)")
            print(
                "  lab \(job.lab), \(job.board.map { "board \($0)" } ?? "board type \(job.boardType)"), priority \(job.priority), from \(job.source)"
            )
            print("  kernel \(job.spec.kernel.location)")
            print(
                "  submitted \(job.submittedAt)\(job.startedAt.map { ", started \($0)" } ?? "")\(job.finishedAt.map { ", finished \($0)" } ?? "")"
            )
            for line in lines { print(line) }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a queued job, or ask the agent to cancel a running one.")

        @Argument(help: "The job id.") var id: Int
        @Option(help: "Results store and job queue (SQLite file).") var db: String?
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            let store = try openStore(db)
            let outcome = try store.cancelJob(id: id)
            let text: String
            switch outcome {
            case .dequeued: text = "canceled"
            case .requested: text = "cancel requested"
            case .alreadyFinished(let state): text = "already \(state.rawValue)"
            case .unknown: throw CLIError.unknownJob(id, store: store)
            }
            if json {
                print(JSONOutput.text(["job": id, "outcome": text], pretty: true))
            } else {
                print("job \(id): \(text)")
            }
        }
    }
}

extension CLIError {
    /// A job id the queue does not hold.
    static func unknownJob(_ id: Int, store: ResultStore) -> CLIError {
        .usage("no job \(id) in \(store.path)", detail: "list jobs with: bootfarm job list")
    }
}

/// Opens the results store, or says which file could not be opened and what to do.
func openStore(_ path: String?) throws -> ResultStore {
    let file = path ?? ResultStore.defaultPath
    do {
        return try ResultStore(path: file)
    } catch {
        throw CLIError.usage("\(error)", detail: "choose another file with --db")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

extension QueuedJob {
    var jsonObject: [String: Any] {
        var object: [String: Any] = [
            "id": id, "lab": lab, "board_type": boardType, "priority": priority, "state": state.rawValue, "submitted_at": submittedAt,
            "attempt_count": attempts, "failures": failures, "errors": errors, "summary": summary, "source": source,
            "kernel": spec.kernel.location, "tree": spec.revision.tree, "branch": spec.revision.branch,
            "describe": spec.revision.describe,
        ]
        object["board"] = board
        object["running_on"] = runningOn
        object["started_at"] = startedAt
        object["finished_at"] = finishedAt
        object["result"] = result?.rawValue
        return object
    }
}

extension TestCase {
    var jsonObject: [String: Any] {
        var object: [String: Any] = ["name": name, "result": result.rawValue]
        object["measurement"] = measurement
        object["units"] = units
        if !output.isEmpty { object["output"] = output }
        return object
    }
}
