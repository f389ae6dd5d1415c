import FarmCore

/// Rows of `boots` packed by an import's parser thread: the text of every row in one buffer and
/// one cell per column, so that the inserting thread binds them in place, with no string, copy
/// or allocation of its own.
struct PackedBootRows: BootRowSink {
    enum Cell {
        case null
        case text(offset: Int, length: Int)
        case integer(Int64)
        case real(Double)
    }

    /// The UTF-8 text of every text cell, one after another.
    private(set) var text: [UInt8] = []
    private(set) var cells: [Cell] = []

    /// Rows packed.
    var count: Int { cells.count / BootRow.columnCount }

    mutating func reserve(rows: Int, textBytes: Int) {
        cells.reserveCapacity(rows * BootRow.columnCount)
        text.reserveCapacity(textBytes)
    }

    /// Packs `record` as the next row.
    mutating func append(_ record: BootRecord) {
        BootRow.bind(record, to: &self)
    }

    /// Packs a row scanned from `line` as the next row: the same cells `append(_:)` packs for
    /// the record `decodeImport` makes of that line.
    mutating func append(_ row: ImportedRow, in line: UnsafeBufferPointer<UInt8>) {
        func text(_ range: Range<Int>?) {
            guard let range else {
                cells.append(.null)
                return
            }
            let offset = self.text.count
            self.text.append(contentsOf: UnsafeBufferPointer(rebasing: line[range]))
            cells.append(.text(offset: offset, length: range.count))
        }
        func text(_ value: String) {
            var value = value
            let offset = self.text.count
            value.withUTF8 { self.text.append(contentsOf: $0) }
            cells.append(.text(offset: offset, length: self.text.count - offset))
        }
        func real(_ value: Double?) { cells.append(value.map { .real($0) } ?? .null) }
        text(row.id)
        text(row.lab)
        text(row.board)
        text(row.boardType)
        text(row.arch)
        text(row.defconfig)
        text(row.compiler)
        text(row.tree)
        text(row.branch)
        text(row.commit)
        text(row.describe)
        text(row.commitTime)
        text(row.startedAt)
        text(row.finishedAt)
        text(row.status.rawValue)
        text(row.stage.rawValue)
        text(row.reason)
        real(row.bootTimeSeconds)
        cells.append(.integer(Int64(row.warnings)))
        cells.append(row.kernelImageSizeBytes.map { .integer(Int64($0)) } ?? .null)
        real(row.energyJoules)
        real(row.averagePowerWatts)
        real(row.peakPowerWatts)
        // No stage times: what `BootRow.encodeStageTimes` writes for none.
        text(Self.noStageTimes)
        assert(cells.count % BootRow.columnCount == 0, "a scanned row fills every column")
    }

    private static let noStageTimes = BootRow.encodeStageTimes([:])

    mutating func bind(_ index: Int32, _ value: String?) {
        assert(cells.count % BootRow.columnCount == Int(index) - 1, "columns are packed in order")
        guard var value else {
            cells.append(.null)
            return
        }
        let offset = text.count
        value.withUTF8 { text.append(contentsOf: $0) }
        cells.append(.text(offset: offset, length: text.count - offset))
    }

    mutating func bind(_ index: Int32, _ value: Int?) {
        assert(cells.count % BootRow.columnCount == Int(index) - 1, "columns are packed in order")
        cells.append(value.map { .integer(Int64($0)) } ?? .null)
    }

    mutating func bind(_ index: Int32, _ value: Double?) {
        assert(cells.count % BootRow.columnCount == Int(index) - 1, "columns are packed in order")
        cells.append(value.map { .real($0) } ?? .null)
    }

    /// Binds each row in turn to `statement` (reset first) and calls `body` with its index. The
    /// text stays in place while `body` runs; the statement is reset once more at the end, so it
    /// keeps no pointer into it.
    func forEachRow<E: Error>(
        binding statement: SQLiteStatement, _ body: (Int) throws(E) -> Void
    ) throws(E) {
        let columns = BootRow.columnCount
        try text.withUnsafeBufferPointer { (text) throws(E) in
            defer { statement.reset() }
            for row in 0..<count {
                statement.reset()
                for column in 0..<columns {
                    let index = Int32(column + 1)
                    switch cells[row * columns + column] {
                    case .null: statement.bind(index, nil as Int?)
                    case .text(let offset, let length):
                        statement.bindUnowned(index, text: text.baseAddress.map { $0 + offset }, length: length)
                    case .integer(let value): statement.bind(index, Int(value))
                    case .real(let value): statement.bind(index, value)
                    }
                }
                try body(row)
            }
        }
    }
}
