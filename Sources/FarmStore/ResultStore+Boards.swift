import FarmCore
import Foundation

extension ResultStore {
    /// The stored states of `lab`'s boards, by board name.
    public func boardStatuses(lab: String, only board: String? = nil) throws(StoreError) -> [String: BoardStatus] {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                SELECT board, state, health, health_failures, current_job, powered_since, note, updated_at \
                FROM board_states WHERE lab = ?\(board == nil ? "" : " AND board = ?")
                """)
            statement.bind(1, lab)
            if let board { statement.bind(2, board) }
            var result: [String: BoardStatus] = [:]
            while try statement.step() {
                let board = statement.string(0) ?? ""
                result[board] = BoardStatus(
                    lab: lab, board: board, state: statement.string(1).flatMap(BoardState.init(rawValue:)) ?? .idle,
                    health: statement.string(2).flatMap(BoardHealth.init(rawValue:)) ?? .unknown, healthFailures: statement.int(3) ?? 0,
                    currentJob: statement.int(4), poweredSince: statement.string(5), note: statement.string(6) ?? "",
                    updatedAt: statement.string(7) ?? "")
            }
            return result
        }
    }

    /// The stored state of one board of `lab`.
    public func boardStatus(lab: String, board: String) throws(StoreError) -> BoardStatus? {
        try boardStatuses(lab: lab, only: board)[board]
    }

    /// Saves a board's state.
    public func save(_ status: BoardStatus) throws(StoreError) {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                INSERT OR REPLACE INTO board_states (lab, board, state, health, health_failures, current_job, powered_since, note, updated_at) \
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            statement.bind(1, status.lab)
            statement.bind(2, status.board)
            statement.bind(3, status.state.rawValue)
            statement.bind(4, status.health.rawValue)
            statement.bind(5, status.healthFailures)
            statement.bind(6, status.currentJob)
            statement.bind(7, status.poweredSince)
            statement.bind(8, status.note)
            statement.bind(9, ISOTimestamp.format(Date().timeIntervalSince1970))
            try statement.step()
        }
    }

    /// Records that an agent (process `pid`) runs `lab` now; `heartbeat` refreshes it.
    public func registerAgent(lab: String, pid: Int32) throws(StoreError) {
        try locked { () throws(StoreError) in
            let now = ISOTimestamp.format(Date().timeIntervalSince1970)
            let statement = try database.prepare("INSERT OR REPLACE INTO agents (lab, pid, started_at, heartbeat) VALUES (?, ?, ?, ?)")
            statement.bind(1, lab)
            statement.bind(2, Int(pid))
            statement.bind(3, now)
            statement.bind(4, now)
            try statement.step()
        }
    }

    /// Refreshes the agent's heartbeat.
    public func agentHeartbeat(lab: String) throws(StoreError) {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("UPDATE agents SET heartbeat = ? WHERE lab = ?")
            statement.bind(1, ISOTimestamp.format(Date().timeIntervalSince1970))
            statement.bind(2, lab)
            try statement.step()
        }
    }

    /// Forgets the agent of `lab` (it stopped cleanly).
    public func unregisterAgent(lab: String) throws(StoreError) {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("DELETE FROM agents WHERE lab = ?")
            statement.bind(1, lab)
            try statement.step()
        }
    }

    /// The agent registered for `lab`: its process id, start and last heartbeat.
    public func agent(lab: String) throws(StoreError) -> (pid: Int32, startedAt: String, heartbeat: String)? {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT pid, started_at, heartbeat FROM agents WHERE lab = ?")
            statement.bind(1, lab)
            guard try statement.step() else { return nil }
            return (Int32(statement.int(0) ?? 0), statement.string(1) ?? "", statement.string(2) ?? "")
        }
    }

    /// Links boot `bootID` to attempt `attempt` of job `jobID`.
    public func link(bootID: String, jobID: Int, attempt: Int) throws(StoreError) {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("UPDATE boots SET job_id = ?, attempt = ? WHERE id = ?")
            statement.bind(1, jobID)
            statement.bind(2, attempt)
            statement.bind(3, bootID)
            try statement.step()
        }
    }

    /// Marks the given boots as replaced by a later attempt: kept, but not counted by reports,
    /// nor uploaded (they leave the outbox unless a server refused them).
    public func markSuperseded(bootIDs: [String]) throws(StoreError) {
        try locked { () throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                let statement = try database.prepare("UPDATE boots SET superseded = 1 WHERE id = ?")
                let unqueue = try database.prepare("DELETE FROM outbox WHERE boot_id = ? AND state = 'pending'")
                for id in bootIDs {
                    statement.reset()
                    statement.bind(1, id)
                    try statement.step()
                    unqueue.reset()
                    unqueue.bind(1, id)
                    try unqueue.step()
                }
            }
        }
    }

    /// Stores the test results of boot `bootID`, replacing any stored before.
    public func saveTests(_ tests: [TestCase], bootID: String) throws(StoreError) {
        try locked { () throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                var writer = BootExtrasWriter(database: database)
                try writer.replaceTests(tests, bootID: bootID)
            }
        }
    }

    /// The test results of boot `bootID`, in the order they ran.
    public func tests(bootID: String) throws(StoreError) -> [TestCase] {
        try locked { () throws(StoreError) in try testsUnlocked(bootID: bootID) }
    }

    func testsUnlocked(bootID: String) throws(StoreError) -> [TestCase] {
        let statement = try database.prepare(
            "SELECT name, result, measurement, units, output FROM boot_tests WHERE boot_id = ? ORDER BY position")
        statement.bind(1, bootID)
        var result: [TestCase] = []
        while try statement.step() {
            result.append(
                TestCase(
                    name: statement.string(0) ?? "", result: statement.string(1).flatMap(TestResult.init(rawValue:)) ?? .skip,
                    measurement: statement.isNull(2) ? nil : statement.double(2), units: statement.string(3),
                    output: statement.string(4) ?? ""))
        }
        return result
    }
}
