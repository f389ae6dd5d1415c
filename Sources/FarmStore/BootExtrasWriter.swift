import FarmCore

/// Writes a boot's power recording and test cases inside a transaction the caller holds, with
/// statements prepared once for many boots (imports, submissions).
struct BootExtrasWriter {
    private let database: SQLiteDatabase
    private var insertPower: SQLiteStatement?
    private var clearTests: SQLiteStatement?
    private var insertTest: SQLiteStatement?

    init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Stores `power` (replacing a stored one) and `tests` (replacing stored ones when given).
    mutating func write(bootID: String, power: BootPower?, tests: [TestCase]) throws(StoreError) {
        if let power { try writePower(power, bootID: bootID) }
        if !tests.isEmpty { try writeTests(tests, bootID: bootID) }
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

    private mutating func writeTests(_ tests: [TestCase], bootID: String) throws(StoreError) {
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
