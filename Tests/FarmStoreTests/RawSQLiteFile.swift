import CSQLite
import Foundation

/// Direct access to a database file with libsqlite3, bypassing `ResultStore`: to prepare files
/// the store did not write and to read what it left on disk.
final class RawSQLiteFile {
    private var handle: OpaquePointer?

    init(path: String) throws {
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(handle)
            throw RawSQLiteError(message: message)
        }
    }

    deinit { sqlite3_close(handle) }

    /// Runs `sql` (one or more statements).
    func execute(_ sql: String) throws {
        guard sqlite3_exec(handle, sql, nil, nil, nil) == SQLITE_OK else {
            throw RawSQLiteError(message: String(cString: sqlite3_errmsg(handle)))
        }
    }

    /// The first column of the first row of `sql`, as an integer.
    func integer(_ sql: String) throws -> Int {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK else {
            throw RawSQLiteError(message: String(cString: sqlite3_errmsg(handle)))
        }
        defer { sqlite3_finalize(statement) }
        guard sqlite3_step(statement) == SQLITE_ROW else { throw RawSQLiteError(message: "no row for \(sql)") }
        return Int(sqlite3_column_int64(statement, 0))
    }
}

/// libsqlite3 refused something the test asked for.
struct RawSQLiteError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
