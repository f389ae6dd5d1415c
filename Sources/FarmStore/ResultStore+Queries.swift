import FarmCore
import Foundation

/// A revision of a tree/branch as the store knows it.
public struct StoredRevision: Sendable, Equatable {
    public var tree: String
    public var branch: String
    public var describe: String
    public var commit: String
    /// UTC ISO-8601 commit time, when recorded.
    public var commitTime: String?
    /// When the first boot of it started.
    public var firstSeen: String
}

/// Which boots a query returns.
public struct BootFilter: Sendable {
    public var tree: String?
    public var branch: String?
    public var describes: [String]?
    public var lab: String?
    public var board: String?
    /// Include boot attempts that a retry replaced (reports count each job's final outcome once).
    public var includeSuperseded: Bool

    public init(
        tree: String? = nil, branch: String? = nil, describes: [String]? = nil, lab: String? = nil, board: String? = nil,
        includeSuperseded: Bool = false
    ) {
        self.tree = tree
        self.branch = branch
        self.describes = describes
        self.lab = lab
        self.board = board
        self.includeSuperseded = includeSuperseded
    }

    var clause: (sql: String, values: [String]) {
        var parts: [String] = []
        var values: [String] = []
        // With a board or revisions to look up, the lab only filters: `+lab` keeps SQLite from
        // reading the whole lab through boots_by_lab instead of a board's or a revision's boots.
        let labColumn = board != nil || describes != nil ? "+lab" : "lab"
        for (column, value) in [("tree", tree), ("branch", branch), (labColumn, lab), ("board", board)] {
            if let value {
                parts.append("\(column) = ?")
                values.append(value)
            }
        }
        if !includeSuperseded { parts.append("superseded = 0") }
        if let describes {
            parts.append(
                "describe IN (\(describes.isEmpty ? "NULL" : Array(repeating: "?", count: describes.count).joined(separator: ", ")))")
            values += describes
        }
        return (parts.isEmpty ? "" : "WHERE " + parts.joined(separator: " AND "), values)
    }
}

extension ResultStore {
    /// Revisions of `tree`/`branch`, oldest first (by commit time, else by first boot).
    public func revisions(tree: String, branch: String) throws(StoreError) -> [StoredRevision] {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                SELECT tree, branch, describe, "commit", commit_time, first_seen FROM revisions
                WHERE tree = ? AND branch = ? ORDER BY coalesce(commit_time, first_seen), first_seen, describe
                """)
            statement.bind(1, tree)
            statement.bind(2, branch)
            var revisions: [StoredRevision] = []
            while try statement.step() {
                revisions.append(
                    StoredRevision(
                        tree: statement.string(0) ?? "", branch: statement.string(1) ?? "", describe: statement.string(2) ?? "",
                        commit: statement.string(3) ?? "", commitTime: statement.string(4), firstSeen: statement.string(5) ?? ""))
            }
            return revisions
        }
    }

    /// Every tree/branch with its number of revisions and its newest revision.
    public func branches() throws(StoreError) -> [(tree: String, branch: String, revisions: Int, newest: String)] {
        try locked { () throws(StoreError) in
            let statement = try database.prepare(
                """
                SELECT tree, branch, count(*), (SELECT describe FROM revisions AS r WHERE r.tree = revisions.tree AND r.branch = revisions.branch
                    ORDER BY coalesce(commit_time, first_seen) DESC, first_seen DESC LIMIT 1)
                FROM revisions GROUP BY tree, branch ORDER BY tree, branch
                """)
            var result: [(String, String, Int, String)] = []
            while try statement.step() {
                result.append((statement.string(0) ?? "", statement.string(1) ?? "", statement.int(2) ?? 0, statement.string(3) ?? ""))
            }
            return result
        }
    }

    /// The boots matching `filter`, without logs.
    public func boots(_ filter: BootFilter) throws(StoreError) -> [BootRecord] {
        var records: [BootRecord] = []
        try forEachBoot(filter) { record in records.append(record) }
        return records
    }

    /// Calls `body` with each boot matching `filter`, in insertion order, without loading all.
    public func forEachBoot(_ filter: BootFilter, _ body: (BootRecord) throws -> Void) throws(StoreError) {
        try locked { () throws(StoreError) in
            let clause = filter.clause
            let statement = try database.prepare("SELECT \(BootRow.columns) FROM boots \(clause.sql) ORDER BY rowid")
            for (index, value) in clause.values.enumerated() { statement.bind(Int32(index + 1), value) }
            while try statement.step() {
                do {
                    try body(BootRow.read(statement))
                } catch {
                    throw .rolledBack(reason: "\(error)")
                }
            }
        }
    }

    /// Calls `body` with each boot matching `filter` and its console log (nil when none is stored).
    public func forEachBootWithLog(_ filter: BootFilter, _ body: (BootRecord, [UInt8]?) throws -> Void) throws(StoreError) {
        try locked { () throws(StoreError) in
            let clause = filter.clause
            let columns = BootRow.columns.split(separator: ",").map { "boots.\($0.trimmingCharacters(in: .whitespacesAndNewlines))" }
                .joined(separator: ", ")
            let statement = try database.prepare(
                "SELECT \(columns), boot_logs.log FROM boots LEFT JOIN boot_logs ON boot_logs.boot_id = boots.id \(clause.sql) ORDER BY boots.rowid"
            )
            for (index, value) in clause.values.enumerated() { statement.bind(Int32(index + 1), value) }
            while try statement.step() {
                let log: [UInt8]? = statement.isNull(24) ? nil : statement.blob(24)
                do {
                    try body(BootRow.read(statement), log)
                } catch {
                    throw .rolledBack(reason: "\(error)")
                }
            }
        }
    }

    /// The console log bytes of boot `id` (empty when none is stored).
    public func logBytes(bootID id: String) throws(StoreError) -> [UInt8] {
        try log(bootID: id)?.bytes ?? []
    }
}
