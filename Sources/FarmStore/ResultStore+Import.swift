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
        // Parsing runs on threads of its own, batches ahead of the inserts: SQLite writes on one
        // thread, so everything else a record needs is done on the others.
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
                        // The parsers packed the rows and did all else a record needs (revisions,
                        // board summary): this thread, the one SQLite writes on, only binds and steps.
                        var nextExtras = 0
                        try batch.rows.forEachRow(binding: insert) { (row) throws(StoreError) in
                            try insert.step()
                            while nextExtras < batch.extras.count && batch.extras[nextExtras].row == row {
                                try extras.write(batch.extras[nextExtras].boot)
                                nextExtras += 1
                            }
                            summary.imported += 1
                            if summary.imported % 100_000 == 0 { progress(summary.imported) }
                        }
                    }
                    if failed { throw StoreError.rolledBack(reason: "bad lines in \(path)") }
                    let digest = parser.digest()
                    if rebuildIndexes {
                        try StoreSchema.createSecondaryIndexes(database)
                        // Into an empty store every line is a new boot, and the parsers' board
                        // summary is the store's, cheaper than a pass over the table; unless a
                        // line replaced a boot an earlier line added.
                        if existing == 0, try countUnlocked() == summary.imported {
                            try digest.boards.write(to: database)
                            try database.execute(StoreSchema.boardSummaryTriggersSQL)
                        } else {
                            try StoreSchema.restoreBoardSummary(database)
                        }
                    }
                    let revision = try database.prepare(BootRow.insertRevisionSQL)
                    for first in digest.revisions.values {
                        revision.reset()
                        BootRow.bindRevision(first.revision, firstSeen: String(decoding: first.startedAt, as: UTF8.self), to: revision)
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

/// What the parsers learn of the records beside their rows, merged when the file is read: each
/// revision's earliest boot (for `revisions`), and the board summary the records make. Times and
/// ids are compared by their bytes, as SQLite compares text.
struct ImportDigest {
    /// A revision as its earliest boot names it; ties go to the earlier line.
    struct FirstBoot {
        var revision: Revision
        var startedAt: [UInt8]
        var line: Int

        func precedes(_ other: FirstBoot) -> Bool {
            startedAt.lexicographicallyPrecedes(other.startedAt) || (startedAt == other.startedAt && line < other.line)
        }
    }

    private(set) var revisions: [RevisionKey: FirstBoot] = [:]
    /// The board summary of the records, as if each were a new boot.
    private(set) var boards = BoardTally()
    /// The revision of the record added last, and its earliest start so far: consecutive records
    /// mostly share a revision, so they are compared before anything is hashed or made a string.
    private var last: (tree: [UInt8], branch: [UInt8], describe: [UInt8], startedAt: [UInt8])?

    /// Adds the record on `line`; lines come in ascending order.
    mutating func add(_ record: BootRecord, line: Int) {
        let revision = record.revision
        add(
            lab: record.lab.utf8, board: record.board.utf8, boardType: record.boardType.utf8, id: record.id.utf8,
            startedAt: record.startedAt.utf8, status: record.status, tree: revision.tree.utf8, branch: revision.branch.utf8,
            describe: revision.describe.utf8, revision: { revision }, line: line)
    }

    /// Adds the row scanned from `bytes`, on `line`; lines come in ascending order.
    mutating func add(_ row: ImportedRow, in bytes: UnsafeBufferPointer<UInt8>, line: Int) {
        func slice(_ range: Range<Int>) -> UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: bytes[range]) }
        func string(_ range: Range<Int>) -> String { String(decoding: slice(range), as: UTF8.self) }
        add(
            lab: slice(row.lab), board: slice(row.board), boardType: slice(row.boardType), id: slice(row.id),
            startedAt: slice(row.startedAt), status: row.status, tree: slice(row.tree), branch: slice(row.branch),
            describe: slice(row.describe),
            revision: {
                Revision(
                    tree: string(row.tree), branch: string(row.branch), commit: string(row.commit), describe: string(row.describe),
                    commitTime: row.commitTime.map(string))
            }, line: line)
    }

    private mutating func add<Text: Collection<UInt8>>(
        lab: Text, board: Text, boardType: Text, id: Text, startedAt: Text, status: BootStatus, tree: Text, branch: Text,
        describe: Text, revision: () -> Revision, line: Int
    ) {
        boards.count(
            lab: String(decoding: lab, as: UTF8.self), board: String(decoding: board, as: UTF8.self), boardType: boardType, id: id,
            startedAt: startedAt, status: status)
        if let last, last.describe.elementsEqual(describe), last.tree.elementsEqual(tree), last.branch.elementsEqual(branch),
            !startedAt.lexicographicallyPrecedes(last.startedAt)
        {
            return
        }
        let named = revision()
        let key = RevisionKey(tree: named.tree, branch: named.branch, describe: named.describe)
        if let known = revisions[key], !startedAt.lexicographicallyPrecedes(known.startedAt) {
            last = (Array(tree), Array(branch), Array(describe), known.startedAt)
            return
        }
        revisions[key] = FirstBoot(revision: named, startedAt: Array(startedAt), line: line)
        last = (Array(tree), Array(branch), Array(describe), Array(startedAt))
    }

    /// Adds what another parser learnt.
    mutating func merge(_ other: ImportDigest) {
        boards.merge(other.boards)
        for (key, first) in other.revisions {
            if let known = revisions[key], !first.precedes(known) { continue }
            revisions[key] = first
        }
        last = nil
    }
}

/// Parses a JSON Lines file on threads of their own, handing over batches of packed rows in
/// file order through a small bounded queue.
final class ImportParser: @unchecked Sendable {
    struct Batch {
        var rows = PackedBootRows()
        /// The records with a console log, power recording or tests, by their row.
        var extras: [(row: Int, boot: ImportedBoot)] = []
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
    /// What each parser that finished learnt.
    private var digests: [ImportDigest] = []
    /// Batches parsed ahead of the inserts, at most.
    private let depth = 6
    private let batchSize = 4096
    /// Parsing threads. A line read in place costs less than its insert, but one the JSON parser
    /// reads costs more: two parsers keep the inserting thread busy either way.
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

    /// What the parsers learnt of the records, once `next()` returned nil.
    func digest() -> ImportDigest {
        condition.lock()
        defer { condition.unlock() }
        precondition(runningWorkers == 0, "the digest is read when every parser is done")
        var merged = ImportDigest()
        for digest in digests { merged.merge(digest) }
        return merged
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
        var digest = ImportDigest()
        defer {
            condition.lock()
            digests.append(digest)
            runningWorkers -= 1
            condition.broadcast()
            condition.unlock()
        }
        data.withUnsafeBytes { raw in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return }
            while let claimed = claim(base, count: raw.count) {
                deliver(parse(base, claimed.range, firstLine: claimed.line, into: &digest), sequence: claimed.sequence)
            }
        }
    }

    /// Parses the lines in `range` of the file; the first is line `firstLine + 1`.
    private func parse(
        _ base: UnsafePointer<UInt8>, _ range: Range<Int>, firstLine: Int, into digest: inout ImportDigest
    ) -> Batch {
        var batch = Batch()
        // The packed text is shorter than the JSON it came from, and has no logs.
        batch.rows.reserve(rows: batchSize, textBytes: min(range.count, batchSize * 512))
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
            // The common line is read where it stands; any other the ordinary way.
            if let row = BootRecord.scanImport(bytes: line) {
                digest.add(row, in: line, line: lineNumber)
                batch.rows.append(row, in: line)
                continue
            }
            do {
                let imported = try BootRecord.decodeImport(bytes: line, line: lineNumber)
                digest.add(imported.record, line: lineNumber)
                batch.rows.append(imported.record)
                if imported.log != nil || imported.power != nil || !imported.tests.isEmpty {
                    batch.extras.append((batch.rows.count - 1, imported))
                }
            } catch {
                batch.errors.append(error)
            }
        }
        return batch
    }
}

/// The board summary of boots as an import adds them to an empty store; valid only when no line
/// replaced a boot an earlier line added. Counting is in any order: the newest boot is the one
/// with the latest start (then the largest id), compared by bytes as SQLite compares text.
struct BoardTally {
    private struct Board {
        var boardType = ""
        var boots = 0
        var startedAt: [UInt8] = []
        var status = BootStatus.pass
        var id: [UInt8] = []

        /// Whether a boot with this start and id is at least as new as the newest so far.
        func isNotOlder<Text: Collection<UInt8>>(startedAt: Text, id: Text) -> Bool {
            if startedAt.lexicographicallyPrecedes(self.startedAt) { return false }
            return !startedAt.elementsEqual(self.startedAt) || !id.lexicographicallyPrecedes(self.id)
        }

        mutating func add<Text: Collection<UInt8>>(boardType: Text, id: Text, startedAt: Text, status: BootStatus) {
            boots += 1
            guard boots == 1 || isNotOlder(startedAt: startedAt, id: id) else { return }
            // Most boots of a board are its newest so far: keep the storage, make no new string.
            if !self.boardType.utf8.elementsEqual(boardType) { self.boardType = String(decoding: boardType, as: UTF8.self) }
            self.startedAt.removeAll(keepingCapacity: true)
            self.startedAt.append(contentsOf: startedAt)
            self.id.removeAll(keepingCapacity: true)
            self.id.append(contentsOf: id)
            self.status = status
        }

        mutating func merge(_ other: Board) {
            guard other.boots > 0 else { return }
            let newer = boots == 0 || isNotOlder(startedAt: other.startedAt, id: other.id)
            boots += other.boots
            guard newer else { return }
            boardType = other.boardType
            startedAt = other.startedAt
            status = other.status
            id = other.id
        }
    }

    private var boards: [String: [String: Board]] = [:]

    /// Counts a boot on its board, in place.
    mutating func count<Text: Collection<UInt8>>(
        lab: String, board: String, boardType: Text, id: Text, startedAt: Text, status: BootStatus
    ) {
        boards[lab, default: [:]][board, default: Board()].add(boardType: boardType, id: id, startedAt: startedAt, status: status)
    }

    /// Adds the boots another tally counted.
    mutating func merge(_ other: BoardTally) {
        for (lab, labBoards) in other.boards {
            for (name, board) in labBoards { boards[lab, default: [:]][name, default: Board()].merge(board) }
        }
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
                insert.bind(5, String(decoding: board.startedAt, as: UTF8.self))
                insert.bind(6, board.status.rawValue)
                insert.bind(7, String(decoding: board.id, as: UTF8.self))
                try insert.step()
            }
        }
    }
}
