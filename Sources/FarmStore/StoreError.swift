/// A failure of the results store.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// The database file cannot be opened or created.
    case cannotOpen(path: String, message: String)
    /// SQLite refused a statement.
    case sqlite(code: Int32, message: String, sql: String)
    /// The file was written by a newer bootfarm.
    case newerSchema(path: String, found: Int, supported: Int)
    /// A transaction was rolled back on purpose; nothing of it was stored.
    case rolledBack(reason: String)
    /// A stored value cannot be read back or a value cannot be stored; `row` is its row id.
    case invalidRecord(row: Int, field: String, message: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let message):
            "cannot open results store \(path): \(message)"
        case .sqlite(let code, let message, let sql):
            "results store: \(message) (SQLite error \(code)) in: \(sql.prefix(120))"
        case .newerSchema(let path, let found, let supported):
            "results store \(path) has schema version \(found), newer than this bootfarm's \(supported): upgrade bootfarm"
        case .rolledBack(let reason):
            "nothing was stored: \(reason)"
        case .invalidRecord(let row, let field, let message):
            "results store: row \(row), \(field): \(message)"
        }
    }
}
