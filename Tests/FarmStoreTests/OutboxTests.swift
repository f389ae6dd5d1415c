import FarmCore
import Foundation
import Testing

@testable import FarmStore

@Suite("the outbox: boots queued for upload to a results server")
struct OutboxTests {
    static let server = "https://results.example.org"
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// A boot of `lab` with a revision, started `minute` minutes into 2024-03-01.
    static func record(_ id: String, lab: String = "lab", minute: Int = 0, describe: String = "v6.9") -> BootRecord {
        BootRecord(
            id: id, lab: lab, board: "b1", boardType: "qemu-arm64",
            revision: Revision(tree: "mainline", branch: "master", describe: describe),
            build: Build(arch: "arm64"), startedAt: String(format: "2024-03-01T00:%02d:00Z", minute), status: .pass, stage: .prompt)
    }

    static func transcript(_ text: String) -> ConsoleTranscript {
        var transcript = ConsoleTranscript()
        transcript.append(Array(text.utf8), at: 0)
        return transcript
    }

    @Test func bootsQueuedWithTheirInsertComeOutOldestFirstInBatchesWithTheirLogs() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("lab.sqlite"))
        for index in 0..<5 {
            try store.insert(Self.record("boot-\(index)", minute: index), log: Self.transcript("log \(index)\n"), outbox: Self.server)
        }
        try store.insert(Self.record("unqueued", minute: 9))
        let first = try store.pendingUploads(server: Self.server, limit: 3, dueBy: Date())
        #expect(first.map(\.record.id) == ["boot-0", "boot-1", "boot-2"])
        #expect(first.map { String(decoding: $0.log ?? [], as: UTF8.self) } == ["log 0\n", "log 1\n", "log 2\n"])
        #expect(first[0].record == Self.record("boot-0"))
        #expect(first.allSatisfy { $0.attempts == 0 })
        #expect(try store.pendingUploads(server: "https://other.example.org", limit: 10, dueBy: Date()).isEmpty)
        #expect(try store.pendingUploadCount(server: Self.server) == 5)
        #expect(try store.hasDueUploads(server: Self.server))

        try store.markUploaded(bootIDs: first.map(\.record.id), server: Self.server)
        #expect(try store.pendingUploads(server: Self.server, limit: 10, dueBy: Date()).map(\.record.id) == ["boot-3", "boot-4"])
        #expect(try store.boot(id: "boot-0") != nil, "uploading keeps the boot")
    }

    @Test func aBootWithoutLogGoesWithoutOne() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("lab.sqlite"))
        try store.insert(Self.record("bare"), outbox: Self.server)
        let item = try #require(try store.pendingUploads(server: Self.server, limit: 1, dueBy: nil).first)
        #expect(item.log == nil)
    }

    @Test func theBootAndItsOutboxEntryAreWrittenInOneTransaction() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("lab.sqlite")
        let store = try ResultStore(path: path)
        // Without the outbox table the entry cannot be written: the boot must not be stored either.
        try RawSQLiteFile(path: path).execute("DROP TABLE outbox")
        #expect(throws: StoreError.self) { try store.insert(Self.record("lost"), log: Self.transcript("x\n"), outbox: Self.server) }
        #expect(try store.boot(id: "lost") == nil)
        #expect(try store.log(bootID: "lost") == nil)
    }

    @Test func aFailedAttemptCountsUpAndPostponesEveryPendingBootOfThatServer() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("lab.sqlite"))
        for index in 0..<3 { try store.insert(Self.record("boot-\(index)", minute: index), outbox: Self.server) }
        try store.insert(Self.record("elsewhere"), outbox: "http://other:8080")
        let retryAt = Self.start.addingTimeInterval(30)
        try store.markUploadFailed(bootIDs: ["boot-0"], server: Self.server, error: "cannot reach it", retryAt: retryAt, at: Self.start)

        #expect(try store.pendingUploads(server: Self.server, limit: 10, dueBy: Self.start).isEmpty)
        #expect(!(try store.hasDueUploads(server: Self.server, at: Self.start)))
        #expect(try store.hasDueUploads(server: "http://other:8080", at: Self.start), "another server's boots do not wait")
        let due = try store.pendingUploads(server: Self.server, limit: 10, dueBy: retryAt)
        #expect(due.map(\.record.id) == ["boot-0", "boot-1", "boot-2"])
        #expect(due.map(\.attempts) == [1, 0, 0])
        #expect(try store.pendingUploads(server: Self.server, limit: 10, dueBy: nil).count == 3, "a push ignores the schedule")

        let summary = try store.outboxSummary(server: Self.server, at: Self.start)
        #expect(summary.pending == 3 && summary.due == 0 && summary.rejected == 0)
        #expect(summary.lastError == "cannot reach it")
        #expect(summary.nextAttemptAt.flatMap(ISOTimestamp.epochSeconds) == retryAt.timeIntervalSince1970)
        let entry = try #require(try store.outboxEntry(bootID: "boot-0", server: Self.server))
        #expect(entry.attempts == 1 && entry.state == .pending && entry.lastAttemptAt != nil)
    }

    @Test func aRejectedBootLeavesTheQueueUntilItIsQueuedAgain() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("lab.sqlite"))
        for index in 0..<2 { try store.insert(Self.record("boot-\(index)", minute: index), outbox: Self.server) }
        try store.markUploadRejected(bootID: "boot-0", server: Self.server, message: "HTTP 400: [0].tree: must not be empty")
        #expect(try store.pendingUploads(server: Self.server, limit: 10, dueBy: nil).map(\.record.id) == ["boot-1"])
        let summary = try store.outboxSummary(server: Self.server)
        #expect(summary.pending == 1 && summary.rejected == 1)
        let rejected = try store.outboxEntries(state: .rejected)
        #expect(rejected.map(\.bootID) == ["boot-0"])
        #expect(rejected.first?.lastError == "HTTP 400: [0].tree: must not be empty")

        #expect(try store.requeueRejectedUploads(server: "https://other.example.org") == 0)
        #expect(try store.requeueRejectedUploads(server: Self.server) == 1)
        #expect(try store.pendingUploads(server: Self.server, limit: 10, dueBy: Date()).map(\.record.id) == ["boot-0", "boot-1"])
        #expect(try store.outboxEntry(bootID: "boot-0", server: Self.server)?.lastError == "")
    }

    @Test func storingABootAgainQueuesItAgainDueNow() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("lab.sqlite"))
        try store.insert(Self.record("boot-0"), outbox: Self.server)
        try store.markUploadFailed(
            bootIDs: ["boot-0"], server: Self.server, error: "HTTP 503", retryAt: Date().addingTimeInterval(3600))
        try store.insert(Self.record("boot-0", describe: "v6.10"), outbox: Self.server)
        let item = try #require(try store.pendingUploads(server: Self.server, limit: 1, dueBy: Date()).first)
        #expect(item.record.revision.describe == "v6.10" && item.attempts == 0)
        #expect(try store.outboxEntries().count == 1)
    }

    @Test func backfillQueuesEachStoredBootOfTheLabOnceOldestFirst() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("lab.sqlite"))
        for index in [3, 1, 2, 0] { try store.insert(Self.record("boot-\(index)", minute: index)) }
        try store.insert(Self.record("other-lab", lab: "elsewhere"))
        try store.insert(Self.record("retried", minute: 4))
        try store.markSuperseded(bootIDs: ["retried"])
        var healthCheck = Self.record("health", minute: 5)
        healthCheck.revision = Revision(tree: "health-check", branch: "qemu-arm64")
        try store.insert(healthCheck)

        #expect(try store.queueUploads(lab: "lab", server: Self.server, since: "2024-03-01T00:02:00Z") == 2)
        #expect(try store.queueUploads(lab: "lab", server: Self.server) == 2, "boots queued already are not queued twice")
        #expect(try store.queueUploads(lab: "lab", server: Self.server) == 0)
        let items = try store.pendingUploads(server: Self.server, limit: 10, dueBy: nil)
        #expect(items.map(\.record.id) == ["boot-2", "boot-3", "boot-0", "boot-1"])
        #expect(try store.outboxSummary(server: Self.server).oldestQueuedAt != nil)
    }

    @Test func aSupersededAttemptLeavesTheOutboxAndADeletedBootToo() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("lab.sqlite"))
        for id in ["retried", "deleted", "kept"] { try store.insert(Self.record(id), outbox: Self.server) }
        try store.markSuperseded(bootIDs: ["retried"])
        #expect(try store.deleteBoot(id: "deleted"))
        #expect(try store.outboxEntries().map(\.bootID) == ["kept"])
    }

    @Test func summariesCountEachServerApart() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("lab.sqlite"))
        try store.insert(Self.record("a"), outbox: "http://a:1")
        try store.insert(Self.record("b"), outbox: "http://b:1")
        try store.queueUploads(bootIDs: ["a", "no-such-boot"], server: "http://b:1")
        try store.markUploadRejected(bootID: "b", server: "http://b:1", message: "HTTP 403: not yours")
        let summaries = try store.outboxSummaries()
        #expect(summaries.map(\.server) == ["http://a:1", "http://b:1"])
        #expect(summaries.map(\.pending) == [1, 1] && summaries.map(\.rejected) == [0, 1] && summaries.map(\.due) == [1, 1])
        #expect(summaries[1].lastError == nil, "a refusal is the rejected boot's, not the server's last error")
        #expect(try store.outboxSummary(server: "http://c:1") == OutboxSummary(server: "http://c:1"))
    }

    @Test func outboxTimesSortAsTimesDo() {
        let whole = ResultStore.outboxTime(Date(timeIntervalSince1970: 1_800_000_045))
        let half = ResultStore.outboxTime(Date(timeIntervalSince1970: 1_800_000_045.5))
        #expect(whole == "2027-01-15T08:00:45.000Z")
        #expect(half == "2027-01-15T08:00:45.500Z")
        #expect(whole < half)
    }

    @Test func aVersion6StoreMigratesKeepingItsBootsAndTokens() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("v6.sqlite")
        do {
            let database = try SQLiteDatabase(path: path)
            for version in 0..<6 { try database.execute(StoreSchema.migrations[version]) }
            try database.execute("PRAGMA user_version = 6")
            try database.execute(
                """
                INSERT INTO boots (id, lab, board, board_type, tree, branch, describe, started_at, status, stage)
                    VALUES ('old', 'lab', 'b', 't', 'mainline', 'master', 'v6.8', '2024-01-01T00:00:00Z', 'pass', 'prompt');
                INSERT INTO boot_logs (boot_id, log, line_times) VALUES ('old', X'6869', X'');
                INSERT INTO api_tokens (secret_sha256, role, lab, created_at) VALUES ('abc', 'lab', 'lab', '2024-01-01T00:00:00Z');
                """)
        }
        let store = try ResultStore(path: path)
        #expect(try store.boots(BootFilter()).map(\.id) == ["old"])
        #expect(try store.boardSummaries().map(\.board) == ["b"], "the board summary is built from the stored boots")
        #expect(try store.log(bootID: "old")?.bytes == Array("hi".utf8))
        #expect(try store.tokens().count == 1)
        let file = try RawSQLiteFile(path: path)
        #expect(try file.integer("PRAGMA user_version") == StoreSchema.migrations.count)
        #expect(try file.integer("SELECT count(*) FROM sqlite_master WHERE name = 'boots_by_key'") == 0, "migration 9 drops it")
        #expect(try file.integer("SELECT count(*) FROM sqlite_master WHERE name = 'boots_by_lab'") == 1)
        #expect(try file.integer("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%+lab = OLD.lab%'") == 2)
        #expect(try file.integer("SELECT count(*) FROM sqlite_master WHERE name = 'boots_by_board'") == 1)
        #expect(try file.integer("PRAGMA page_size") == 4_096, "an existing store keeps its page size")
        #expect(try store.queueUploads(lab: "lab", server: Self.server) == 1)
        #expect(try store.pendingUploads(server: Self.server, limit: 1, dueBy: nil).first?.log == Array("hi".utf8))
    }
}
