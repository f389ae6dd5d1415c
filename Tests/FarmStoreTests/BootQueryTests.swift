import FarmCore
import Foundation
import Testing

@testable import FarmStore

@Suite struct BootQueryTests {
    @Test func cursorTokenRoundTripsAndRejectsGarbage() {
        let cursor = BootCursor(startedAt: "2026-01-01T00:00:00.5Z", id: "boot/with+odd=chars ✓")
        #expect(BootCursor(token: cursor.token) == cursor)
        #expect(!cursor.token.contains("/") && !cursor.token.contains("+") && !cursor.token.contains("="))
        #expect(BootCursor(token: "") == nil)
        #expect(BootCursor(token: "***") == nil)
        #expect(BootCursor(token: Data("no newline".utf8).base64EncodedString()) == nil)
    }

    @Test func pagesWalkNewestFirstWithTiesBrokenById() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        for (id, startedAt) in [("a", "2026-01-01T00:00:00Z"), ("c", "2026-01-02T00:00:00Z"), ("b", "2026-01-02T00:00:00Z")] {
            try store.insert(ResultStoreTests.record(id, board: "bbb", startedAt: startedAt))
        }
        var query = BootQuery()
        query.limit = 2
        let first = try store.boots(query)
        #expect(first.boots.map(\.id) == ["c", "b"])
        query.after = first.next
        let second = try store.boots(query)
        #expect(second.boots.map(\.id) == ["a"])
        #expect(second.next == nil)
    }

    @Test func submitStoresAllOrNothingAndDeleteRemovesTheLog() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        let boot = ImportedBoot(
            record: ResultStoreTests.record("x", board: "bbb", startedAt: "2026-01-01T00:00:00Z"), log: Array("ok\n".utf8))
        try store.submit([boot, boot])
        #expect(try store.count() == 1)
        #expect(try store.logBytes(bootID: "x") == Array("ok\n".utf8))
        #expect(try store.labs(ofBootIDs: ["x", "y"]) == ["x": "lab"])
        #expect(try store.deleteBoot(id: "x"))
        #expect(try store.deleteBoot(id: "x") == false)
        #expect(try store.log(bootID: "x") == nil)
    }
}

@Suite struct BootSampleScanTests {
    @Test func samplesNameTheirKeyAndRevisionAndSkipOtherRevisions() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        func boot(_ id: String, board: String, describe: String, status: BootStatus, arch: String = "arm64") -> BootRecord {
            var record = ResultStoreTests.record(id, board: board, startedAt: "2026-01-01T00:00:0\(id.count)Z")
            record.revision.describe = describe
            record.build.arch = arch
            record.status = status
            record.reason = status == .pass ? "" : "reason of \(id)"
            record.bootTimeSeconds = 1.5
            record.build.kernelImageSizeBytes = 1000
            return record
        }
        let tree = ResultStoreTests.record("z", board: "b", startedAt: "").revision.tree
        let branch = ResultStoreTests.record("z", board: "b", startedAt: "").revision.branch
        try store.insert(boot("a", board: "one", describe: "v1", status: .pass))
        try store.insert(boot("bb", board: "one", describe: "v2", status: .fail))
        try store.insert(boot("ccc", board: "two", describe: "v2", status: .error))
        try store.insert(boot("dddd", board: "one", describe: "v2", status: .canceled, arch: "x86_64"))
        try store.insert(boot("eeeee", board: "one", describe: "v3", status: .pass))
        var samples: [BootSample] = []
        let keys = try store.forEachSample(tree: tree, branch: branch, describes: ["v1", "v2"]) { samples.append($0) }
        #expect(samples.map(\.id).sorted() == ["a", "bb", "ccc", "dddd"])
        #expect(keys.count == 3)
        let stored = try store.boots(BootFilter())
        for sample in samples {
            let key = keys[sample.line]
            let record = try #require(stored.first { $0.id == sample.id })
            #expect(key == RegressionKey(record))
            #expect(sample.status == record.status)
            #expect(sample.revision == (sample.id == "a" ? 0 : 1))
            #expect(sample.reason == record.reason)
            #expect(sample.bootTimeSeconds == 1.5 && sample.kernelImageSizeBytes == 1000)
        }
        #expect(samples.map(\.status).sorted { $0.rawValue < $1.rawValue } == [.canceled, .error, .fail, .pass])
        // "a" and "bb" are the same key; "dddd" differs in arch only.
        let line = { (id: String) in samples.first { $0.id == id }!.line }
        #expect(line("a") == line("bb"))
        #expect(line("a") != line("dddd"))
        // One board only.
        let two = try store.forEachSample(tree: tree, branch: branch, describes: ["v2"], board: "two") { #expect($0.id == "ccc") }
        #expect(two.map(\.board) == ["two"])
    }
}

/// Without statistics SQLite picks an index by the shape of the query alone: lookups that name a
/// board or revisions must read those boots, never every boot of the lab.
@Suite("which index each lookup reads")
struct QueryPlanTests {
    static func plan(_ store: ResultStore, _ sql: String, _ values: [String]) throws -> String {
        let statement = try store.database.prepare("EXPLAIN QUERY PLAN " + sql)
        for (index, value) in values.enumerated() { statement.bind(Int32(index + 1), value) }
        var steps: [String] = []
        while try statement.step() { steps.append(statement.string(3) ?? "") }
        return steps.joined(separator: "; ")
    }

    @Test func lookupsReadTheNarrowestIndex() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        let history = BootFilter(tree: "t", branch: "b", describes: ["v1", "v2"], lab: "l", board: "x").clause
        #expect(try Self.plan(store, "SELECT id FROM boots \(history.sql)", history.values).contains("boots_by_board"))
        let revisions = BootFilter(tree: "t", branch: "b", describes: ["v1", "v2"], lab: "l").clause
        #expect(try Self.plan(store, "SELECT id FROM boots \(revisions.sql)", revisions.values).contains("boots_by_revision"))
        let newest = "ORDER BY started_at DESC, id DESC LIMIT 51"
        var board = BootQuery()
        board.equal = [.lab: "l", .board: "x"]
        #expect(try Self.plan(store, "SELECT id FROM boots \(board.clause.sql) \(newest)", board.clause.values).contains("boots_by_board"))
        var lab = BootQuery()
        lab.equal = [.lab: "l"]
        #expect(try Self.plan(store, "SELECT id FROM boots \(lab.clause.sql) \(newest)", lab.clause.values).contains("boots_by_lab"))
        let triggers = try RawSQLiteFile(path: folder.file("results.sqlite"))
            .integer("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%board = OLD.board AND +lab = OLD.lab%'")
        #expect(triggers == 2, "the summary triggers look a board's newest boot up by board")
    }
}
