import FarmCore
import Foundation

/// The results store: every boot with its console log, in one SQLite file.
///
/// Safe to share between tasks: calls are serialised on one connection. Several processes may
/// use the same file (WAL mode; writers wait up to 10 s for each other).
public final class ResultStore: @unchecked Sendable {
    let database: SQLiteDatabase
    private let lock = NSLock()
    /// The file.
    public let path: String

    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    public init(path: String) throws(StoreError) {
        self.path = path
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .cannotOpen(path: path, message: "cannot create folder \(folder): \(error.localizedDescription)")
        }
        database = try SQLiteDatabase(path: path)
        // Refuse a newer file before anything writes to it: switching to WAL rewrites its header.
        let version = try database.userVersion
        guard version <= StoreSchema.migrations.count else {
            throw .newerSchema(path: path, found: version, supported: StoreSchema.migrations.count)
        }
        // A new store gets 16 KiB pages: a bulk import writes a quarter as many pages (and
        // splits a quarter as many) as with 4 KiB ones, and a report reads fewer. An existing
        // store keeps its page size (it can change only before the first write).
        if version == 0 { try database.execute("PRAGMA page_size = 16384") }
        // Memory-mapped reads spare a copy of every page a report or listing reads.
        try database.execute(
            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA mmap_size = 1073741824")
        try StoreSchema.migrate(database)
    }

    /// The default store: `$XDG_DATA_HOME/bootfarm/results.sqlite` (or `~/.local/share/…`).
    public static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        let base =
            environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() as NSString).appendingPathComponent(".local/share")
        return (base as NSString).appendingPathComponent("bootfarm/results.sqlite")
    }

    func locked<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Stores a boot and its console log in one transaction. A record with the same id is
    /// updated in place; its stored log is kept unless a new one is given. With `server`, the
    /// boot is queued for upload to that results server in the same transaction, so no crash
    /// can keep a stored boot from being uploaded.
    public func insert(
        _ record: BootRecord, log: ConsoleTranscript? = nil, power: BootPower? = nil, outbox server: String? = nil
    ) throws(StoreError) {
        try locked { () throws(StoreError) in
            try database.transaction { () throws(StoreError) in
                let statement = try database.prepare(BootRow.upsertSQL)
                BootRow.bind(record, to: statement)
                try statement.step()
                let revision = try database.prepare(BootRow.insertRevisionSQL)
                BootRow.bindRevision(record, to: revision)
                try revision.step()
                var extras = BootExtrasWriter(database: database)
                try extras.write(bootID: record.id, log: log, power: power, tests: [])
                if let server { _ = try queueUnlocked(bootIDs: [record.id], server: server, at: Date()) }
            }
        }
    }

    /// The boot with `id`, if stored.
    public func boot(id: String) throws(StoreError) -> BootRecord? {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT \(BootRow.columns) FROM boots WHERE id = ?")
            statement.bind(1, id)
            guard try statement.step() else { return nil }
            return BootRow.read(statement)
        }
    }

    /// The console log of boot `id`, byte for byte, with its line times.
    public func log(bootID id: String) throws(StoreError) -> ConsoleTranscript? {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT log, line_times FROM boot_logs WHERE boot_id = ?")
            statement.bind(1, id)
            guard try statement.step() else { return nil }
            return ConsoleTranscript(bytes: statement.blob(0), lineTimes: ConsoleTranscript.unpackLineTimes(statement.blob(1)))
        }
    }

    /// The power recording of boot `id`, if its board had a meter.
    public func power(bootID id: String) throws(StoreError) -> BootPower? {
        try locked { () throws(StoreError) in try powerUnlocked(bootID: id) }
    }

    func powerUnlocked(bootID id: String) throws(StoreError) -> BootPower? {
        let statement = try database.prepare("SELECT trace, stage_energy, lost_samples, warnings FROM boot_power WHERE boot_id = ?")
        statement.bind(1, id)
        guard try statement.step() else { return nil }
        let trace = (try? PowerTrace(packed: statement.blob(0))) ?? PowerTrace()
        let warnings = (statement.string(3) ?? "").split(separator: "\n").map(String.init)
        return BootPower(
            trace: trace, stageEnergyJoules: BootRow.decodeStageTimes(statement.string(1) ?? "{}"), lostSamples: statement.int(2) ?? 0,
            warnings: warnings)
    }

    /// The newest boots first, optionally of one board; attempts a retry replaced only when asked.
    public func recentBoots(limit: Int = 50, board: String? = nil, includeSuperseded: Bool = false) throws(StoreError) -> [BootRecord] {
        try locked { () throws(StoreError) in
            var conditions = board == nil ? [] : ["board = ?"]
            if !includeSuperseded { conditions.append("superseded = 0") }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            let statement = try database.prepare(
                "SELECT \(BootRow.columns) FROM boots \(filter) ORDER BY started_at DESC, rowid DESC LIMIT \(max(0, limit))")
            if let board { statement.bind(1, board) }
            var records: [BootRecord] = []
            while try statement.step() { records.append(BootRow.read(statement)) }
            return records
        }
    }

    /// Number of boots stored.
    public func count() throws(StoreError) -> Int {
        try locked { () throws(StoreError) in try countUnlocked() }
    }

    func countUnlocked() throws(StoreError) -> Int {
        let statement = try database.prepare("SELECT count(*) FROM boots")
        try statement.step()
        return statement.int(0) ?? 0
    }
}
