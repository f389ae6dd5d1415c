import CSQLite
import Foundation

/// A thin owner of one SQLite connection (the system libsqlite3). Not thread-safe by itself:
/// `ResultStore` serialises access.
final class SQLiteDatabase {
    private(set) var handle: OpaquePointer?
    let path: String

    init(path: String) throws(StoreError) {
        self.path = path
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &connection, flags, nil)
        guard code == SQLITE_OK, let connection else {
            let message = connection.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(connection)
            throw .cannotOpen(path: path, message: message)
        }
        handle = connection
        // Writers from several processes (agent, CLI) wait for each other instead of failing.
        sqlite3_busy_timeout(connection, 10_000)
    }

    deinit { sqlite3_close_v2(handle) }

    func execute(_ sql: String) throws(StoreError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? "error"
            sqlite3_free(message)
            throw .sqlite(code: code, message: text, sql: sql)
        }
    }

    func prepare(_ sql: String) throws(StoreError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else { throw error(code, sql) }
        return SQLiteStatement(statement, database: self, sql: sql)
    }

    func error(_ code: Int32, _ sql: String) -> StoreError {
        .sqlite(code: code, message: String(cString: sqlite3_errmsg(handle)), sql: sql)
    }

    /// Runs `body` in a transaction, rolled back if it throws.
    func transaction<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    /// Rows the last INSERT, UPDATE or DELETE changed.
    var changes: Int { Int(sqlite3_changes(handle)) }

    var userVersion: Int {
        get throws(StoreError) {
            let statement = try prepare("PRAGMA user_version")
            guard try statement.step() else { return 0 }
            return statement.int(0) ?? 0
        }
    }
}

/// A prepared statement; bind with 1-based indexes, read columns with 0-based ones.
final class SQLiteStatement {
    private let statement: OpaquePointer
    private let database: SQLiteDatabase
    let sql: String

    init(_ statement: OpaquePointer, database: SQLiteDatabase, sql: String) {
        self.statement = statement
        self.database = database
        self.sql = sql
    }

    deinit { sqlite3_finalize(statement) }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Static storage for the empty text: a NULL pointer would bind NULL.
    private static let emptyText: StaticString = ""

    func bind(_ index: Int32, _ value: String?) {
        guard var value else {
            sqlite3_bind_null(statement, index)
            return
        }
        // The UTF-8 bytes in place: passing the String itself converts small strings (most
        // columns) to a freshly allocated C string, then SQLite copies that again.
        value.withUTF8 { bindText(index, $0.baseAddress, length: $0.count, destructor: Self.transient) }
    }

    /// Binds `length` bytes of UTF-8 at `text` without copying them: they must stay in place
    /// until the statement is reset or the parameter bound again.
    func bindUnowned(_ index: Int32, text: UnsafePointer<UInt8>?, length: Int) {
        bindText(index, text, length: length, destructor: nil)
    }

    /// Binds text; empty text is bound from static storage, since a NULL pointer would bind NULL.
    private func bindText(_ index: Int32, _ text: UnsafePointer<UInt8>?, length: Int, destructor: sqlite3_destructor_type?) {
        guard let text, length > 0 else {
            sqlite3_bind_text(statement, index, UnsafeRawPointer(Self.emptyText.utf8Start).assumingMemoryBound(to: CChar.self), 0, nil)
            return
        }
        sqlite3_bind_text(statement, index, UnsafeRawPointer(text).assumingMemoryBound(to: CChar.self), Int32(length), destructor)
    }

    func bind(_ index: Int32, _ value: Int?) {
        guard let value else {
            sqlite3_bind_null(statement, index)
            return
        }
        sqlite3_bind_int64(statement, index, Int64(value))
    }

    func bind(_ index: Int32, _ value: Double?) {
        guard let value else {
            sqlite3_bind_null(statement, index)
            return
        }
        sqlite3_bind_double(statement, index, value)
    }

    func bind(_ index: Int32, blob: [UInt8]) {
        blob.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob64(statement, index, buffer.baseAddress, sqlite3_uint64(buffer.count), Self.transient)
        }
    }

    /// Advances; true while a row is available.
    @discardableResult
    func step() throws(StoreError) -> Bool {
        let code = sqlite3_step(statement)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        throw database.error(code, sql)
    }

    func reset() {
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    /// The text of a column, NUL bytes included (nil for NULL).
    func string(_ column: Int32) -> String? {
        guard let text = sqlite3_column_text(statement, column) else { return nil }
        return String(decoding: UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, column))), as: UTF8.self)
    }

    /// The text of a column without a copy; valid until the next `step` or `reset` (empty for NULL).
    func text(_ column: Int32) -> UnsafeRawBufferPointer {
        guard let text = sqlite3_column_text(statement, column) else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, column)))
    }

    func int(_ column: Int32) -> Int? {
        sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : Int(sqlite3_column_int64(statement, column))
    }

    func double(_ column: Int32) -> Double? {
        sqlite3_column_type(statement, column) == SQLITE_NULL ? nil : sqlite3_column_double(statement, column)
    }

    func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }

    func blob(_ column: Int32) -> [UInt8] {
        let count = Int(sqlite3_column_bytes(statement, column))
        guard count > 0, let pointer = sqlite3_column_blob(statement, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
