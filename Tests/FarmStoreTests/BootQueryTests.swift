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
