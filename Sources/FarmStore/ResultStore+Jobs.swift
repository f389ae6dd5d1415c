import CSQLite
import FarmCore
import Foundation

extension ResultStore {
    static let jobColumns = """
        id, lab, board, board_type, priority, spec, state, submitted_at, started_at, finished_at, running_on, attempts, \
        failures, errors, avoid_board, result, summary, cancel_requested, source
        """

    /// Queues `spec` for `lab`: once, or once per board when it fans out to `boards`.
    /// Returns the new jobs' ids, all queued in one transaction.
    public func submit(_ spec: JobSpec, lab: String, boards: [BoardConfig], source: String) throws(StoreError) -> [Int] {
        let text: String
        do {
            text = String(decoding: try JSONEncoder().encode(spec), as: UTF8.self)
        } catch {
            throw .invalidRecord(row: 0, field: "spec", message: "cannot encode the job: \(error)")
        }
        var targets: [(board: String?, type: String)] = []
        switch spec.target {
        case .board(let name):
            targets = [(name, boards.first { $0.name == name }?.type.name ?? "")]
        case .boardType(let type, let all):
            targets = all ? boards.filter { $0.type.name == type }.map { ($0.name, type) } : [(nil, type)]
        }
        let now = ISOTimestamp.format(Date().timeIntervalSince1970)
        return try locked { () throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                let statement = try database.prepare(
                    "INSERT INTO jobs (lab, board, board_type, priority, spec, submitted_at, source) VALUES (?, ?, ?, ?, ?, ?, ?)")
                var ids: [Int] = []
                for target in targets {
                    statement.reset()
                    statement.bind(1, lab)
                    statement.bind(2, target.board)
                    statement.bind(3, target.type)
                    statement.bind(4, spec.priority)
                    statement.bind(5, text)
                    statement.bind(6, now)
                    statement.bind(7, source)
                    try statement.step()
                    ids.append(Int(sqlite3_last_insert_rowid(database.handle)))
                }
                return ids
            }
        }
    }

    /// Jobs of `lab` (every lab when nil) in `states` (all when empty), newest first.
    public func jobs(lab: String? = nil, states: [JobState] = [], limit: Int = 1000) throws(StoreError) -> [QueuedJob] {
        var parts: [String] = []
        var values: [String] = []
        if let lab {
            parts.append("lab = ?")
            values.append(lab)
        }
        if !states.isEmpty {
            parts.append("state IN (\(states.map { "'\($0.rawValue)'" }.joined(separator: ", ")))")
        }
        let clause = parts.isEmpty ? "" : "WHERE " + parts.joined(separator: " AND ")
        return try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT \(Self.jobColumns) FROM jobs \(clause) ORDER BY id DESC LIMIT \(max(0, limit))")
            for (index, value) in values.enumerated() { statement.bind(Int32(index + 1), value) }
            var result: [QueuedJob] = []
            while try statement.step() { result.append(try Self.readJob(statement)) }
            return result
        }
    }

    /// The queued jobs of `lab` in the order they should run: highest priority, then oldest.
    /// Only what scheduling needs is read (specs stay undecoded), so this stays cheap with
    /// thousands of jobs waiting.
    public func runnableJobs(lab: String) throws(StoreError) -> [JobSlot] {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                "SELECT id, board, board_type, priority, avoid_board FROM jobs WHERE lab = ? AND state = 'queued' ORDER BY priority DESC, id"
            )
            statement.bind(1, lab)
            var result: [JobSlot] = []
            while try statement.step() {
                result.append(
                    JobSlot(
                        id: statement.int(0) ?? 0, board: statement.string(1), boardType: statement.string(2) ?? "",
                        priority: statement.int(3) ?? 0, avoidBoard: statement.string(4)))
            }
            return result
        }
    }

    /// Job `id`, if queued ever.
    public func job(id: Int) throws(StoreError) -> QueuedJob? {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT \(Self.jobColumns) FROM jobs WHERE id = ?")
            statement.bind(1, id)
            guard try statement.step() else { return nil }
            return try Self.readJob(statement)
        }
    }

    /// Saves the agent's view of a job (state, attempts, outcome).
    public func update(_ job: QueuedJob) throws(StoreError) {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                UPDATE jobs SET state = ?, started_at = ?, finished_at = ?, running_on = ?, attempts = ?, failures = ?, \
                errors = ?, avoid_board = ?, result = ?, summary = ? WHERE id = ?
                """)
            statement.bind(1, job.state.rawValue)
            statement.bind(2, job.startedAt)
            statement.bind(3, job.finishedAt)
            statement.bind(4, job.runningOn)
            statement.bind(5, job.attempts)
            statement.bind(6, job.failures)
            statement.bind(7, job.errors)
            statement.bind(8, job.avoidBoard)
            statement.bind(9, job.result?.rawValue)
            statement.bind(10, job.summary)
            statement.bind(11, job.id)
            try statement.step()
        }
    }

    /// What canceling job `id` did.
    public enum CancelOutcome: Sendable, Equatable {
        /// It was waiting and will not run.
        case dequeued
        /// It is running; its agent cancels it.
        case requested
        /// It had already finished or been canceled.
        case alreadyFinished(JobState)
        /// No such job.
        case unknown
    }

    /// Cancels job `id`: a queued job at once, a running one by asking its agent.
    public func cancelJob(id: Int) throws(StoreError) -> CancelOutcome {
        try locked { () throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                let read = try database.prepare("SELECT state FROM jobs WHERE id = ?")
                read.bind(1, id)
                guard try read.step(), let state = read.string(0).flatMap(JobState.init(rawValue:)) else { return .unknown }
                switch state {
                case .queued:
                    let now = ISOTimestamp.format(Date().timeIntervalSince1970)
                    let write = try database.prepare(
                        "UPDATE jobs SET state = 'canceled', result = 'canceled', finished_at = ?, summary = 'canceled before it ran' WHERE id = ?"
                    )
                    write.bind(1, now)
                    write.bind(2, id)
                    try write.step()
                    return .dequeued
                case .running:
                    let write = try database.prepare("UPDATE jobs SET cancel_requested = 1 WHERE id = ?")
                    write.bind(1, id)
                    try write.step()
                    return .requested
                case .done, .canceled:
                    return .alreadyFinished(state)
                }
            }
        }
    }

    /// Ids of running jobs of `lab` someone asked to cancel.
    public func cancelRequests(lab: String) throws(StoreError) -> Set<Int> {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT id FROM jobs WHERE lab = ? AND state = 'running' AND cancel_requested = 1")
            statement.bind(1, lab)
            var ids = Set<Int>()
            while try statement.step() { if let id = statement.int(0) { ids.insert(id) } }
            return ids
        }
    }

    /// The boot ids of job `id`'s attempts, in order.
    public func bootIDs(jobID id: Int) throws(StoreError) -> [String] {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT id FROM boots WHERE job_id = ? ORDER BY attempt, rowid")
            statement.bind(1, id)
            var ids: [String] = []
            while try statement.step() { if let bootID = statement.string(0) { ids.append(bootID) } }
            return ids
        }
    }

    static func readJob(_ statement: SQLiteStatement) throws(StoreError) -> QueuedJob {
        let specText = statement.string(5) ?? ""
        let spec: JobSpec
        do {
            spec = try JSONDecoder().decode(JobSpec.self, from: Data(specText.utf8))
        } catch {
            throw .invalidRecord(row: statement.int(0) ?? 0, field: "jobs.spec", message: "cannot decode the stored job: \(error)")
        }
        return QueuedJob(
            id: statement.int(0) ?? 0, lab: statement.string(1) ?? "", board: statement.string(2), boardType: statement.string(3) ?? "",
            priority: statement.int(4) ?? 0, spec: spec, state: statement.string(6).flatMap(JobState.init(rawValue:)) ?? .queued,
            submittedAt: statement.string(7) ?? "", startedAt: statement.string(8), finishedAt: statement.string(9),
            runningOn: statement.string(10), attempts: statement.int(11) ?? 0, failures: statement.int(12) ?? 0,
            errors: statement.int(13) ?? 0, avoidBoard: statement.string(14),
            result: statement.string(15).flatMap(JobOutcome.init(rawValue:)),
            summary: statement.string(16) ?? "", cancelRequested: (statement.int(17) ?? 0) != 0, source: statement.string(18) ?? "")
    }
}
