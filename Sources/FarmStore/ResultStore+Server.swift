import FarmCore

/// A revision with how its boots ended.
public struct RevisionSummary: Sendable, Equatable {
    public var revision: StoredRevision
    public var counts: OutcomeCounts
}

/// A board as its recorded boots describe it.
public struct BoardSummary: Sendable, Equatable {
    public var lab: String
    public var board: String
    public var boardType: String
    public var boots: Int
    /// UTC ISO-8601 start of its newest boot.
    public var lastBootAt: String
    /// How its newest boot ended.
    public var lastStatus: String
}

/// A lab as its recorded boots describe it.
public struct LabSummary: Sendable, Equatable {
    public var lab: String
    public var boards: Int
    public var boots: Int
    /// UTC ISO-8601 start of its newest boot.
    public var lastBootAt: String
    /// Boards whose newest boot ended in an infrastructure error (the lab could not boot them).
    public var boardsInError: Int
}

extension ResultStore {
    /// One page of boots matching `query`, newest first.
    public func boots(_ query: BootQuery) throws(StoreError) -> BootPage {
        try locked { () throws(StoreError) in
            let clause = query.clause
            let limit = min(max(1, query.limit), BootQuery.maximumLimit)
            // One row more than the page tells whether another page follows.
            let statement = try database.prepare(
                "SELECT \(BootRow.columns) FROM boots \(clause.sql) ORDER BY started_at DESC, id DESC LIMIT \(limit + 1)")
            for (index, value) in clause.values.enumerated() { statement.bind(Int32(index + 1), value) }
            var records: [BootRecord] = []
            while try statement.step() { records.append(BootRow.read(statement)) }
            guard records.count > limit else { return BootPage(boots: records, next: nil) }
            records.removeLast()
            let last = records[records.count - 1]
            return BootPage(boots: records, next: BootCursor(startedAt: last.startedAt, id: last.id))
        }
    }

    /// Stores boots with their logs, power traces and tests in one transaction: all of them or, on any error, none.
    /// A boot whose id is stored already is updated in place, never duplicated.
    public func submit(_ boots: [ImportedBoot]) throws(StoreError) {
        try locked { () throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                let insert = try database.prepare(BootRow.upsertSQL)
                let revision = try database.prepare(BootRow.insertRevisionSQL)
                var extras = BootExtrasWriter(database: database)
                for boot in boots {
                    insert.reset()
                    BootRow.bind(boot.record, to: insert)
                    try insert.step()
                    revision.reset()
                    BootRow.bindRevision(boot.record, to: revision)
                    try revision.step()
                    try extras.write(boot)
                }
            }
        }
    }

    /// The lab of each stored boot among `ids` (ids not stored are left out).
    public func labs(ofBootIDs ids: [String]) throws(StoreError) -> [String: String] {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT lab FROM boots WHERE id = ?")
            var labs: [String: String] = [:]
            for id in Set(ids) {
                statement.reset()
                statement.bind(1, id)
                if try statement.step(), let lab = statement.string(0) { labs[id] = lab }
            }
            return labs
        }
    }

    /// Deletes boot `id` with its log, power trace and tests; false when it was not stored.
    public func deleteBoot(id: String) throws(StoreError) -> Bool {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("DELETE FROM boots WHERE id = ?")
            statement.bind(1, id)
            try statement.step()
            return database.changes > 0
        }
    }

    /// Revisions of `tree`/`branch`, oldest first, with the outcome counts of their boots.
    public func revisionSummaries(tree: String, branch: String) throws(StoreError) -> [RevisionSummary] {
        let revisions = try revisions(tree: tree, branch: branch)
        let counts = try outcomeCounts(tree: tree, branch: branch)
        return revisions.map { RevisionSummary(revision: $0, counts: counts[$0.describe] ?? OutcomeCounts()) }
    }

    /// Every board that has boots, by lab and name (from the board summary the store keeps).
    public func boardSummaries(lab: String? = nil) throws(StoreError) -> [BoardSummary] {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                SELECT lab, board, board_type, boots, last_started_at, last_status FROM board_summary
                \(lab == nil ? "" : "WHERE lab = ?") ORDER BY lab, board
                """)
            if let lab { statement.bind(1, lab) }
            var boards: [BoardSummary] = []
            while try statement.step() {
                boards.append(
                    BoardSummary(
                        lab: statement.string(0) ?? "", board: statement.string(1) ?? "", boardType: statement.string(2) ?? "",
                        boots: statement.int(3) ?? 0, lastBootAt: statement.string(4) ?? "", lastStatus: statement.string(5) ?? ""))
            }
            return boards
        }
    }

    /// Every lab that has boots, with how many of its boards last ended in an infrastructure error.
    public func labSummaries() throws(StoreError) -> [LabSummary] {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                SELECT lab, count(*), sum(boots), max(last_started_at), sum(last_status = 'error') FROM board_summary
                GROUP BY lab ORDER BY lab
                """)
            var labs: [LabSummary] = []
            while try statement.step() {
                labs.append(
                    LabSummary(
                        lab: statement.string(0) ?? "", boards: statement.int(1) ?? 0, boots: statement.int(2) ?? 0,
                        lastBootAt: statement.string(3) ?? "", boardsInError: statement.int(4) ?? 0))
            }
            return labs
        }
    }
}
