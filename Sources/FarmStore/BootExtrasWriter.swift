import FarmCore

/// Writes what a boot carries beside its record (console log, power recording, test cases)
/// inside a transaction the caller holds, with statements prepared once for many boots
/// (imports, submissions).
struct BootExtrasWriter {
    private let database: SQLiteDatabase
    private var insertLog: SQLiteStatement?
    private var insertPower: SQLiteStatement?
    private var clearTests: SQLiteStatement?
    private var insertTest: SQLiteStatement?

    init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Stores `log` and `power` (each replacing a stored one) and `tests` (replacing stored ones
    /// when given).
    mutating func write(bootID: String, log: ConsoleTranscript?, power: BootPower?, tests: [TestCase]) throws(StoreError) {
        if let log { try writeLog(log, bootID: bootID) }
        if let power { try writePower(power, bootID: bootID) }
        if !tests.isEmpty { try replaceTests(tests, bootID: bootID) }
    }

    /// Stores what an imported or submitted boot carries. Its log has no arrival times: every
    /// line is stamped 0.
    mutating func write(_ boot: ImportedBoot) throws(StoreError) {
        var transcript: ConsoleTranscript?
        if let log = boot.log {
            transcript = ConsoleTranscript()
            transcript?.append(log, at: 0)
        }
        try write(bootID: boot.record.id, log: transcript, power: boot.power, tests: boot.tests)
    }

    private mutating func writeLog(_ log: ConsoleTranscript, bootID: String) throws(StoreError) {
        if insertLog == nil {
            insertLog = try database.prepare("INSERT OR REPLACE INTO boot_logs (boot_id, log, line_times) VALUES (?, ?, ?)")
        }
        guard let statement = insertLog else { return }
        statement.reset()
        statement.bind(1, bootID)
        statement.bind(2, blob: log.bytes)
        statement.bind(3, blob: log.packedLineTimes)
        try statement.step()
    }

    private mutating func writePower(_ power: BootPower, bootID: String) throws(StoreError) {
        if insertPower == nil {
            insertPower = try database.prepare(
                "INSERT OR REPLACE INTO boot_power (boot_id, trace, stage_energy, lost_samples, warnings) VALUES (?, ?, ?, ?, ?)")
        }
        guard let statement = insertPower else { return }
        statement.reset()
        statement.bind(1, bootID)
        statement.bind(2, blob: power.trace.packed)
        statement.bind(3, BootRow.encodeStageTimes(power.stageEnergyJoules))
        statement.bind(4, power.lostSamples)
        statement.bind(5, power.warnings.joined(separator: "\n"))
        try statement.step()
    }

    /// Replaces the stored test cases of `bootID` with `tests` (none: removes them).
    mutating func replaceTests(_ tests: [TestCase], bootID: String) throws(StoreError) {
        if clearTests == nil {
            clearTests = try database.prepare("DELETE FROM boot_tests WHERE boot_id = ?")
            insertTest = try database.prepare(
                "INSERT INTO boot_tests (boot_id, position, name, result, measurement, units, output) VALUES (?, ?, ?, ?, ?, ?, ?)")
        }
        guard let clear = clearTests, let insert = insertTest else { return }
        clear.reset()
        clear.bind(1, bootID)
        try clear.step()
        for (position, test) in tests.enumerated() {
            insert.reset()
            insert.bind(1, bootID)
            insert.bind(2, position)
            insert.bind(3, test.name)
            insert.bind(4, test.result.rawValue)
            insert.bind(5, test.measurement)
            insert.bind(6, test.units)
            insert.bind(7, test.output)
            try insert.step()
        }
    }
}
