import FarmCore

/// What a regression analysis reads of one boot: its line (an index into the keys the scan
/// returns), its revision (an index into the revisions asked for) and its measurements.
public struct BootSample: Sendable {
    public var line: Int
    public var revision: Int
    public var id: String
    public var status: BootStatus
    public var startedAt: String
    public var reason: String
    public var bootTimeSeconds: Double?
    public var energyJoules: Double?
    public var warnings: Int
    public var kernelImageSizeBytes: Int?

    public init(
        line: Int, revision: Int, id: String, status: BootStatus, startedAt: String, reason: String, bootTimeSeconds: Double?,
        energyJoules: Double?, warnings: Int, kernelImageSizeBytes: Int?
    ) {
        self.line = line
        self.revision = revision
        self.id = id
        self.status = status
        self.startedAt = startedAt
        self.reason = reason
        self.bootTimeSeconds = bootTimeSeconds
        self.energyJoules = energyJoules
        self.warnings = warnings
        self.kernelImageSizeBytes = kernelImageSizeBytes
    }
}

extension ResultStore {
    /// Calls `body` with every final boot of `describes` of `tree`/`branch` (optionally of one
    /// lab and board), reading only what regression analysis needs, and returns the regression
    /// keys the samples' `line` indexes, in the order first seen.
    ///
    /// Keys are told apart by their bytes as SQLite holds them, so a key's eight strings are
    /// made once, not once per boot: a report reads a hundred thousand boots of ten thousand keys.
    public func forEachSample(
        tree: String, branch: String, describes: [String], lab: String? = nil, board: String? = nil,
        _ body: (BootSample) throws -> Void
    ) throws(StoreError) -> [RegressionKey] {
        let filter = BootFilter(tree: tree, branch: branch, describes: describes, lab: lab, board: board)
        return try locked { () throws(StoreError) -> [RegressionKey] in
            let clause = filter.clause
            // No ORDER BY: the revision index yields each revision's boots in insertion order,
            // which is all the analysis needs (it groups by revision), and spares a sort.
            let statement = try database.prepare(
                """
                SELECT arch, defconfig, compiler, board_type, board, lab, describe, id, status, started_at, reason, boot_time_s,
                    energy_j, warnings, kernel_image_size FROM boots \(clause.sql)
                """)
            for (index, value) in clause.values.enumerated() { statement.bind(Int32(index + 1), value) }
            let describeBytes = describes.map { Array($0.utf8) }
            var lines = LineTable()
            var keys: [RegressionKey] = []
            while try statement.step() {
                let describe = statement.text(6)
                guard let revision = describeBytes.firstIndex(where: { $0.elementsEqual(describe) }) else { continue }
                let (line, isNew) = lines.index(columns: 6) { statement.text(Int32($0)) }
                if isNew {
                    keys.append(
                        RegressionKey(
                            tree: tree, branch: branch, arch: statement.string(0) ?? "", defconfig: statement.string(1) ?? "",
                            compiler: statement.string(2) ?? "", boardType: statement.string(3) ?? "", board: statement.string(4) ?? "",
                            lab: statement.string(5) ?? ""))
                }
                let sample = BootSample(
                    line: line, revision: revision, id: statement.string(7) ?? "", status: BootStatus(bytes: statement.text(8)),
                    startedAt: statement.string(9) ?? "", reason: statement.text(10).isEmpty ? "" : statement.string(10) ?? "",
                    bootTimeSeconds: statement.double(11), energyJoules: statement.double(12), warnings: statement.int(13) ?? 0,
                    kernelImageSizeBytes: statement.int(14))
                do {
                    try body(sample)
                } catch {
                    throw .rolledBack(reason: "\(error)")
                }
            }
            return keys
        }
    }
}

extension BootStatus {
    /// The status stored as `bytes`; anything unknown reads as an infrastructure error.
    init(bytes: UnsafeRawBufferPointer) {
        self = Self.allCases.first { $0.rawValue.utf8.elementsEqual(bytes) } ?? .error
    }
}

/// Interns byte-string tuples: the same columns' bytes map to the same index.
private struct LineTable {
    private struct Key: Hashable {
        var bytes: [UInt8]
        func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    }
    private var indexes: [Key: Int] = [:]
    private var scratch = Key(bytes: [])

    /// The index of the `count` columns, and whether it was seen for the first time.
    mutating func index(columns count: Int, _ column: (Int) -> UnsafeRawBufferPointer) -> (Int, Bool) {
        scratch.bytes.removeAll(keepingCapacity: true)
        for position in 0..<count {
            let column = column(position)
            // Length-prefixed, so ("ab", "c") and ("a", "bc") differ.
            withUnsafeBytes(of: UInt32(column.count).littleEndian) { scratch.bytes.append(contentsOf: $0) }
            scratch.bytes.append(contentsOf: column)
        }
        if let index = indexes[scratch] { return (index, false) }
        let index = indexes.count
        indexes[scratch] = index
        return (index, true)
    }
}
