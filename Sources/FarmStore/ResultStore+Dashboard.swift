import CSQLite
import FarmCore

/// How the boots of one revision ended.
public struct OutcomeCounts: Sendable, Equatable {
    public var passed = 0
    public var failed = 0
    public var errors = 0

    public init(passed: Int = 0, failed: Int = 0, errors: Int = 0) {
        self.passed = passed
        self.failed = failed
        self.errors = errors
    }

    /// Boots counted.
    public var total: Int { passed + failed + errors }
}

extension ResultStore {
    /// A value that changes whenever the store's content may have changed, through this
    /// connection or any other (another process importing, say). Caches of derived data key on it.
    public func changeStamp() throws(StoreError) -> String {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("PRAGMA data_version")
            guard try statement.step() else { return "" }
            return "\(statement.int(0) ?? 0).\(sqlite3_total_changes64(database.handle))"
        }
    }

    /// Outcome counts of the revisions of `tree`/`branch` by describe: those among `describes`
    /// (read through the revision index, so a few revisions cost the same in a store of any
    /// size), or every one when nil.
    public func outcomeCounts(tree: String, branch: String, describes: [String]? = nil) throws(StoreError) -> [String: OutcomeCounts] {
        if describes?.isEmpty == true { return [:] }
        return try locked { () throws(StoreError) in
            let only = describes.map { "AND describe IN (\(Array(repeating: "?", count: $0.count).joined(separator: ", ")))" } ?? ""
            let statement = try database.prepare(
                """
                SELECT describe, sum(status = 'pass'), sum(status = 'fail'), sum(status = 'error') FROM boots
                WHERE tree = ? AND branch = ? \(only) AND superseded = 0 GROUP BY describe
                """)
            statement.bind(1, tree)
            statement.bind(2, branch)
            for (index, describe) in (describes ?? []).enumerated() { statement.bind(Int32(index + 3), describe) }
            var counts: [String: OutcomeCounts] = [:]
            while try statement.step() {
                counts[statement.string(0) ?? ""] = OutcomeCounts(
                    passed: statement.int(1) ?? 0, failed: statement.int(2) ?? 0, errors: statement.int(3) ?? 0)
            }
            return counts
        }
    }
}
