import FarmCore
import Foundation

/// What an import did.
public struct ImportSummary: Sendable {
    /// Records stored (new or updated).
    public var imported = 0
    /// Lines that were not stored (with `skipBad`), or that made the import fail.
    public var rejected: [ImportError] = []
    /// Non-empty lines read.
    public var lines = 0
}

/// An import that stored nothing because some lines are bad.
public struct ImportFailure: Error, Sendable, CustomStringConvertible {
    public var file: String
    /// The bad lines found (the first 100).
    public var errors: [ImportError]
    /// Bad lines in all.
    public var badLines: Int

    public var description: String {
        let first = errors.first.map { "\(file): \($0)" } ?? file
        return "\(first) (\(badLines) bad line\(badLines == 1 ? "" : "s"); nothing was imported)"
    }
}

extension ResultStore {
    /// Imports boot records from a JSON Lines file (one object per line; blank lines ignored).
    ///
    /// All or nothing by default: if any line is bad, nothing from the file is stored and the
    /// error lists the bad lines. With `skipBad`, good lines are stored and bad ones reported.
    /// A record whose `id` is already stored is updated, never duplicated; records without an id
    /// get a fresh one. Rows are written through one prepared statement inside one transaction.
    public func importJSONLines(
        path: String, skipBad: Bool = false, progress: (Int) -> Void = { _ in }
    ) throws -> ImportSummary {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw StoreError.cannotOpen(path: path, message: "cannot read the import file: \(error.localizedDescription)")
        }
        // Parsing runs on its own thread, a batch ahead of the inserts: the two halves of an
        // import cost about the same, and a lab machine has at least two cores.
        let parser = ImportParser(data: data)
        parser.start()
        defer { parser.stop() }
        var summary = ImportSummary()
        var badLines = 0
        do {
            try locked { () throws(StoreError) in
                // A large import into a smaller store is faster with the secondary indexes built
                // once at the end than updated row by row; both happen inside the one transaction.
                let existing = try countUnlocked()
                let estimatedRows = data.count / 250
                let rebuildIndexes = estimatedRows > 50_000 && estimatedRows > existing
                try database.execute("PRAGMA cache_size = -262144")
                defer { try? database.execute("PRAGMA cache_size = -2000") }
                // In WAL mode every page of a bulk import is written twice (log, then checkpoint);
                // a rollback journal writes new pages once. Switching needs the store to ourselves,
                // so when another process has it open the import simply stays in WAL mode.
                let leftWAL = rebuildIndexes && ((try? database.execute("PRAGMA journal_mode = DELETE")) != nil)
                defer { if leftWAL { try? database.execute("PRAGMA journal_mode = WAL") } }
                try database.transaction { () throws(StoreError) in
                    if rebuildIndexes {
                        try StoreSchema.dropSecondaryIndexes(database)
                        // The board summary is rebuilt once at the end too, not kept row by row.
                        try StoreSchema.dropBoardSummaryTriggers(database)
                    }
                    let insert = try database.prepare(BootRow.upsertSQL)
                    var extras = BootExtrasWriter(database: database)
                    // Into an empty store every line is a new boot: the board summary is counted
                    // here as lines go by, cheaper than a pass over the table at the end.
                    let tallyBoards = rebuildIndexes && existing == 0
                    var boards = BoardTally()
                    var revisions: [RevisionKey: BootRecord] = [:]
                    var lastRevision: RevisionKey?
                    var failed = false
                    while let batch = parser.next() {
                        summary.lines += batch.lines
                        for error in batch.errors {
                            badLines += 1
                            if summary.rejected.count < 100 { summary.rejected.append(error) }
                            if !skipBad { failed = true }
                        }
                        // After a bad line nothing more is stored, but every line is still read so
                        // that all bad lines are reported.
                        if failed { continue }
                        for imported in batch.records {
                            insert.reset()
                            BootRow.bind(imported.record, to: insert)
                            try insert.step()
                            try extras.write(imported)
                            // Consecutive records mostly share a revision: compare before hashing.
                            let revision = imported.record.revision
                            if let last = lastRevision, last.describe == revision.describe, last.tree == revision.tree,
                                last.branch == revision.branch,
                                let known = revisions[last], known.startedAt <= imported.record.startedAt
                            {
                                // Known, and this boot is not earlier: nothing to update.
                            } else {
                                let key = RevisionKey(tree: revision.tree, branch: revision.branch, describe: revision.describe)
                                if let known = revisions[key], known.startedAt <= imported.record.startedAt {
                                } else {
                                    revisions[key] = imported.record
                                }
                                lastRevision = key
                            }
                            if tallyBoards { boards.count(imported.record) }
                            summary.imported += 1
                            if summary.imported % 100_000 == 0 { progress(summary.imported) }
                        }
                    }
                    if failed { throw StoreError.rolledBack(reason: "bad lines in \(path)") }
                    if rebuildIndexes {
                        try StoreSchema.createSecondaryIndexes(database)
                        // A file that repeats an id replaced a boot it added: then the tally is off.
                        if tallyBoards, try countUnlocked() == summary.imported {
                            try boards.write(to: database)
                            try database.execute(StoreSchema.boardSummaryTriggersSQL)
                        } else {
                            try StoreSchema.restoreBoardSummary(database)
                        }
                    }
                    let revision = try database.prepare(BootRow.insertRevisionSQL)
                    for record in revisions.values {
                        revision.reset()
                        BootRow.bindRevision(record, to: revision)
                        try revision.step()
                    }
                }
            }
        } catch StoreError.rolledBack {
            throw ImportFailure(file: path, errors: summary.rejected, badLines: badLines)
        }
        return summary
    }
}

/// Tree, branch and describe: a revision's identity.
struct RevisionKey: Hashable {
    var tree: String
    var branch: String
    var describe: String
}

/// Parses a JSON Lines file on a thread of its own, handing over batches of decoded records
/// through a small bounded queue.
final class ImportParser: @unchecked Sendable {
    struct Batch {
        var records: [ImportedBoot] = []
        var errors: [ImportError] = []
        var lines = 0
    }

    private let data: Data
    private let condition = NSCondition()
    /// Parsed batches by sequence number, waiting for the inserts to take them in order.
    private var parsed: [Int: Batch] = [:]
    /// The sequence number of the batch `next()` returns next.
    private var nextToTake = 0
    /// Where the next batch to parse starts: its byte offset, line number and sequence number.
    private var cursor = (offset: 0, line: 0, sequence: 0)
    private var runningWorkers = 0
    private var stopping = false
    /// Batches parsed ahead of the inserts, at most.
    private let depth = 6
    private let batchSize = 4096
    /// Parsing threads. Parsing costs about twice what inserting does, so two parsers keep one
    /// inserter busy on a two-core machine.
    private let workers: Int

    init(data: Data, workers: Int = max(1, min(2, ProcessInfo.processInfo.activeProcessorCount))) {
        self.data = data
        self.workers = workers
        // A byte-order mark at the start of the file is not part of the first record.
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        if data.count >= 3 && data.prefix(3).elementsEqual(bom) { cursor.offset = 3 }
    }

    func start() {
        runningWorkers = workers
        for index in 0..<workers {
            let thread = Thread { [self] in run() }
            thread.name = "bootfarm import parser \(index + 1)"
            thread.start()
        }
    }

    /// Asks the parsers to stop early (the import failed or ended).
    func stop() {
        condition.lock()
        stopping = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch in file order, or nil when the file is done.
    func next() -> Batch? {
        condition.lock()
        defer { condition.unlock() }
        while parsed[nextToTake] == nil && (runningWorkers > 0 || nextToTake < cursor.sequence) && !stopping { condition.wait() }
        guard let batch = parsed.removeValue(forKey: nextToTake) else { return nil }
        nextToTake += 1
        condition.broadcast()
        return batch
    }

    /// Claims the next `batchSize` lines: their byte range, first line number and sequence number.
    private func claim(_ base: UnsafePointer<UInt8>, count: Int) -> (range: Range<Int>, line: Int, sequence: Int)? {
        condition.lock()
        defer { condition.unlock() }
        // Stay at most `depth` batches ahead of the inserts.
        while cursor.sequence - nextToTake >= depth && !stopping { condition.wait() }
        guard !stopping, cursor.offset < count else { return nil }
        let start = cursor.offset
        var end = start
        var lines = 0
        while end < count && lines < batchSize {
            if let found = memchr(base + end, 0x0A, count - end) {
                end = base.distance(to: found.assumingMemoryBound(to: UInt8.self)) + 1
            } else {
                end = count
            }
            lines += 1
        }
        let claimed = (start..<end, cursor.line, cursor.sequence)
        cursor = (end, cursor.line + lines, cursor.sequence + 1)
        return claimed
    }

    private func deliver(_ batch: Batch, sequence: Int) {
        condition.lock()
        parsed[sequence] = batch
        condition.broadcast()
        condition.unlock()
    }

    private func run() {
        defer {
            condition.lock()
            runningWorkers -= 1
            condition.broadcast()
            condition.unlock()
        }
        data.withUnsafeBytes { raw in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return }
            while let claimed = claim(base, count: raw.count) {
                deliver(parse(base, claimed.range, firstLine: claimed.line), sequence: claimed.sequence)
            }
        }
    }

    /// Parses the lines in `range` of the file; the first is line `firstLine + 1`.
    private func parse(_ base: UnsafePointer<UInt8>, _ range: Range<Int>, firstLine: Int) -> Batch {
        var batch = Batch()
        var start = range.lowerBound
        var lineNumber = firstLine
        while start < range.upperBound {
            var end = range.upperBound
            if let found = memchr(base + start, 0x0A, range.upperBound - start) {
                end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
            lineNumber += 1
            let line = UnsafeBufferPointer(start: base + start, count: end - start)
            start = end + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            batch.lines += 1
            do {
                batch.records.append(try BootRecord.decodeImport(bytes: line, line: lineNumber))
            } catch {
                batch.errors.append(error)
            }
        }
        return batch
    }
}

/// The board summary of boots as an import adds them to an empty store; valid only when no line
/// replaced a boot an earlier line added.
struct BoardTally {
    private struct Board {
        var boardType = ""
        var boots = 0
        var startedAt = ""
        var status = ""
        var id = ""

        mutating func add(_ record: BootRecord) {
            boots += 1
            guard boots == 1 || (record.startedAt, record.id) >= (startedAt, id) else { return }
            boardType = record.boardType
            startedAt = record.startedAt
            status = record.status.rawValue
            id = record.id
        }
    }

    private var boards: [String: [String: Board]] = [:]

    /// Counts `record` on its board, in place.
    mutating func count(_ record: BootRecord) {
        boards[record.lab, default: [:]][record.board, default: Board()].add(record)
    }

    func write(to database: SQLiteDatabase) throws(StoreError) {
        try database.execute("DELETE FROM board_summary")
        let insert = try database.prepare(
            "INSERT INTO board_summary (lab, board, board_type, boots, last_started_at, last_status, last_boot_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        for (lab, labBoards) in boards {
            for (name, board) in labBoards {
                insert.reset()
                insert.bind(1, lab)
                insert.bind(2, name)
                insert.bind(3, board.boardType)
                insert.bind(4, board.boots)
                insert.bind(5, board.startedAt)
                insert.bind(6, board.status)
                insert.bind(7, board.id)
                try insert.step()
            }
        }
    }
}
