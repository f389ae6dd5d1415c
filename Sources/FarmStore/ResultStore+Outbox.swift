import FarmCore
import Foundation

extension ResultStore {
    /// Queues (or queues again, due now) each stored boot among `bootIDs` for upload to
    /// `server`; ids not stored are skipped. Returns how many were queued.
    @discardableResult
    public func queueUploads(bootIDs: [String], server: String, at now: Date = Date()) throws(StoreError) -> Int {
        try locked { () throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                try queueUnlocked(bootIDs: bootIDs, server: server, at: now)
            }
        }
    }

    func queueUnlocked(bootIDs: [String], server: String, at now: Date) throws(StoreError) -> Int {
        // A boot queued again (its record changed) is due at once, keeping its place in line.
        let statement = try database.prepare(
            """
            INSERT INTO outbox (boot_id, server, queued_at, next_attempt_at) SELECT id, ?, ?, ? FROM boots WHERE id = ?
            ON CONFLICT (boot_id, server) DO UPDATE SET state = 'pending', attempts = 0, last_error = '',
                next_attempt_at = excluded.next_attempt_at
            """)
        let time = Self.outboxTime(now)
        var queued = 0
        for id in bootIDs {
            statement.reset()
            statement.bind(1, server)
            statement.bind(2, time)
            statement.bind(3, time)
            statement.bind(4, id)
            try statement.step()
            queued += database.changes
        }
        return queued
    }

    /// Queues every stored boot of `lab` (started at or after `since`, when given) that is not
    /// queued for `server` yet, oldest first: a lab joining a server with its history. Attempts
    /// a retry replaced and boots without a revision (health checks) are left out: the server
    /// does not count the one and refuses the other. Returns how many were queued.
    @discardableResult
    public func queueUploads(lab: String, server: String, since: String? = nil, at now: Date = Date()) throws(StoreError) -> Int {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                INSERT INTO outbox (boot_id, server, queued_at, next_attempt_at)
                SELECT id, ?, ?, ? FROM boots WHERE lab = ? AND superseded = 0 AND tree != '' AND (describe != '' OR "commit" != '')
                    AND started_at >= ? ORDER BY started_at, rowid
                ON CONFLICT (boot_id, server) DO NOTHING
                """)
            let time = Self.outboxTime(now)
            statement.bind(1, server)
            statement.bind(2, time)
            statement.bind(3, time)
            statement.bind(4, lab)
            statement.bind(5, since ?? "")
            try statement.step()
            return database.changes
        }
    }

    /// Pending boots of `server` with their logs, oldest queued first, at most `limit`: those
    /// due by `dueBy`, or all of them when it is nil.
    public func pendingUploads(server: String, limit: Int, dueBy: Date?) throws(StoreError) -> [OutboxItem] {
        try locked { () throws(StoreError) in
            let due = dueBy == nil ? "" : "AND outbox.next_attempt_at <= ?"
            let statement = try database.prepare(
                """
                SELECT \(BootRow.columns), boot_logs.log, boot_logs.boot_id IS NULL, outbox.attempts FROM outbox
                JOIN boots ON boots.id = outbox.boot_id LEFT JOIN boot_logs ON boot_logs.boot_id = outbox.boot_id
                WHERE outbox.server = ? AND outbox.state = 'pending' \(due)
                ORDER BY outbox.queued_at, outbox.rowid LIMIT \(max(0, limit))
                """)
            statement.bind(1, server)
            if let dueBy { statement.bind(2, Self.outboxTime(dueBy)) }
            let logColumn = Int32(BootRow.columnCount)  // after the boot's columns: log, log absent, attempts
            var items: [OutboxItem] = []
            while try statement.step() {
                let log = statement.int(logColumn + 1) == 1 ? nil : statement.blob(logColumn)
                items.append(OutboxItem(record: BootRow.read(statement), log: log, attempts: statement.int(logColumn + 2) ?? 0))
            }
            for index in items.indices {
                items[index].power = try powerUnlocked(bootID: items[index].record.id)
                items[index].tests = try testsUnlocked(bootID: items[index].record.id)
            }
            return items
        }
    }

    /// True when a pending boot of `server` is due by `now`.
    public func hasDueUploads(server: String, at now: Date = Date()) throws(StoreError) -> Bool {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                "SELECT 1 FROM outbox WHERE server = ? AND state = 'pending' AND next_attempt_at <= ? LIMIT 1")
            statement.bind(1, server)
            statement.bind(2, Self.outboxTime(now))
            return try statement.step()
        }
    }

    /// How many boots wait for upload to `server`.
    public func pendingUploadCount(server: String) throws(StoreError) -> Int {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT count(*) FROM outbox WHERE server = ? AND state = 'pending'")
            statement.bind(1, server)
            try statement.step()
            return statement.int(0) ?? 0
        }
    }

    /// Removes the boots `server` has stored from its outbox. The server took them, so it is
    /// back: the boots that wait for a later attempt are due again.
    public func markUploaded(bootIDs: [String], server: String, at now: Date = Date()) throws(StoreError) {
        let sql = "DELETE FROM outbox WHERE boot_id = ?1 AND server = ?2"
        try updateOutbox(
            bootIDs, server: server, sql: sql,
            then: { () throws(StoreError) in
                let due = try database.prepare(
                    "UPDATE outbox SET next_attempt_at = ?1 WHERE server = ?2 AND state = 'pending' AND next_attempt_at > ?1")
                due.bind(1, Self.outboxTime(now))
                due.bind(2, server)
                try due.step()
            })
    }

    /// Records a failed attempt to upload `bootIDs` (network error, server error, refused token):
    /// their attempts count up and `error` is kept. Every pending boot of `server` then waits
    /// until `retryAt`, since the server, not a record, failed.
    public func markUploadFailed(
        bootIDs: [String], server: String, error: String, retryAt: Date, at now: Date = Date()
    ) throws(StoreError) {
        try updateOutbox(
            bootIDs, server: server,
            sql: """
                UPDATE outbox SET attempts = attempts + 1, last_error = ?3, last_attempt_at = ?4
                WHERE boot_id = ?1 AND server = ?2 AND state = 'pending'
                """
        ) { statement in
            statement.bind(3, error)
            statement.bind(4, Self.outboxTime(now))
        } then: { () throws(StoreError) in
            let postpone = try database.prepare(
                "UPDATE outbox SET next_attempt_at = max(next_attempt_at, ?) WHERE server = ? AND state = 'pending'")
            postpone.bind(1, Self.outboxTime(retryAt))
            postpone.bind(2, server)
            try postpone.step()
        }
    }

    /// Marks boot `bootID` as refused for good by `server`, with the server's `message`.
    public func markUploadRejected(bootID: String, server: String, message: String, at now: Date = Date()) throws(StoreError) {
        try updateOutbox(
            [bootID], server: server,
            sql: """
                UPDATE outbox SET state = 'rejected', attempts = attempts + 1, last_error = ?3, last_attempt_at = ?4
                WHERE boot_id = ?1 AND server = ?2
                """
        ) { statement in
            statement.bind(3, message)
            statement.bind(4, Self.outboxTime(now))
        }
    }

    /// Queues the boots `server` refused (every server's when nil) again, due now. Returns how many.
    @discardableResult
    public func requeueRejectedUploads(server: String? = nil, at now: Date = Date()) throws(StoreError) -> Int {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                UPDATE outbox SET state = 'pending', attempts = 0, last_error = '', next_attempt_at = ?
                WHERE state = 'rejected' \(server == nil ? "" : "AND server = ?")
                """)
            statement.bind(1, Self.outboxTime(now))
            if let server { statement.bind(2, server) }
            try statement.step()
            return database.changes
        }
    }

    /// How the outbox stands for each server that has boots in it, by URL.
    public func outboxSummaries(at now: Date = Date()) throws(StoreError) -> [OutboxSummary] {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                SELECT server, sum(state = 'pending'), sum(state = 'pending' AND next_attempt_at <= ?), sum(state = 'rejected'),
                    min(CASE WHEN state = 'pending' THEN queued_at END), min(CASE WHEN state = 'pending' THEN next_attempt_at END),
                    (SELECT last_error FROM outbox AS failed WHERE failed.server = outbox.server AND failed.state = 'pending'
                        AND failed.last_error != '' ORDER BY failed.last_attempt_at DESC LIMIT 1)
                FROM outbox GROUP BY server ORDER BY server
                """)
            statement.bind(1, Self.outboxTime(now))
            var summaries: [OutboxSummary] = []
            while try statement.step() {
                var summary = OutboxSummary(server: statement.string(0) ?? "")
                summary.pending = statement.int(1) ?? 0
                summary.due = statement.int(2) ?? 0
                summary.rejected = statement.int(3) ?? 0
                summary.oldestQueuedAt = statement.string(4)
                summary.nextAttemptAt = statement.string(5)
                summary.lastError = statement.string(6)
                summaries.append(summary)
            }
            return summaries
        }
    }

    /// How the outbox of `server` stands (all zero when it holds nothing for it).
    public func outboxSummary(server: String, at now: Date = Date()) throws(StoreError) -> OutboxSummary {
        try outboxSummaries(at: now).first { $0.server == server } ?? OutboxSummary(server: server)
    }

    /// The outbox entry of boot `bootID` for `server`, if it has one.
    public func outboxEntry(bootID: String, server: String) throws(StoreError) -> OutboxEntry? {
        try outboxEntries(server: server, bootID: bootID, limit: 1).first
    }

    /// Outbox entries of `server` (every server's when nil) in `state` (both when nil), of one
    /// boot when `bootID` is given, oldest first.
    public func outboxEntries(
        server: String? = nil, state: OutboxState? = nil, bootID: String? = nil, limit: Int = 1000
    ) throws(StoreError) -> [OutboxEntry] {
        var conditions: [String] = []
        var values: [String] = []
        for (column, value) in [("server", server), ("state", state?.rawValue), ("boot_id", bootID)] {
            guard let value else { continue }
            conditions.append("\(column) = ?")
            values.append(value)
        }
        let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                SELECT boot_id, server, state, queued_at, next_attempt_at, last_attempt_at, attempts, last_error FROM outbox
                \(filter) ORDER BY queued_at, rowid LIMIT \(max(0, limit))
                """)
            for (index, value) in values.enumerated() { statement.bind(Int32(index + 1), value) }
            var entries: [OutboxEntry] = []
            while try statement.step() {
                entries.append(
                    OutboxEntry(
                        bootID: statement.string(0) ?? "", server: statement.string(1) ?? "",
                        state: statement.string(2).flatMap(OutboxState.init(rawValue:)) ?? .pending, queuedAt: statement.string(3) ?? "",
                        nextAttemptAt: statement.string(4) ?? "", lastAttemptAt: statement.string(5), attempts: statement.int(6) ?? 0,
                        lastError: statement.string(7) ?? ""))
            }
            return entries
        }
    }

    /// Runs `sql` once per boot id, in one transaction: `?1` is the boot id, `?2` the server, and
    /// `bind` sets any parameters after those. `then` runs last, in the same transaction.
    private func updateOutbox(
        _ bootIDs: [String], server: String, sql: String, bind: (SQLiteStatement) -> Void = { _ in },
        then: () throws(StoreError) -> Void = {}
    ) throws(StoreError) {
        try locked { () throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                let statement = try database.prepare(sql)
                for id in bootIDs {
                    statement.reset()
                    statement.bind(1, id)
                    statement.bind(2, server)
                    bind(statement)
                    try statement.step()
                }
                try then()
            }
        }
    }

    /// `date` as UTC ISO-8601 with milliseconds always written, so that text order is time order
    /// (the store's usual form drops a zero fraction, and `…45Z` sorts after `…45.500Z`).
    static func outboxTime(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.up))
        var text = ISOTimestamp.format(Double(milliseconds / 1000))
        let fraction = String(milliseconds % 1000)
        text.removeLast()
        return text + "." + String(repeating: "0", count: 3 - fraction.count) + fraction + "Z"
    }
}
