import FarmCore
import Foundation
import Testing

@testable import FarmStore

@Suite struct ResultStoreTests {
    /// A record with every field set, with quotes and non-ASCII text that SQL and JSON must not mangle.
    static func fullRecord(id: String = "3f1c9a52-8d1e-4b7a-9f2e-6c0d5a4b3e21") -> BootRecord {
        BootRecord(
            id: id, lab: "lab-berlin", board: "rpi4-01", boardType: "qemu-arm64-uboot",
            revision: Revision(
                tree: "mainline", branch: "master", commit: "0123456789abcdef0123456789abcdef01234567",
                describe: "v6.8-rc3-12-g0123456789ab", commitTime: "2024-02-11T10:20:30Z"),
            build: Build(arch: "arm64", defconfig: "defconfig", compiler: "gcc-12", kernelImageSizeBytes: 23_456_789),
            startedAt: "2024-02-12T08:00:00.125Z", finishedAt: "2024-02-12T08:00:42.5Z",
            status: .fail, stage: .userspace,
            reason: "kernel panic: Attempted to kill init! exitcode=0x00000100 ('quoted', \"double\", ünïcode ✓)",
            bootTimeSeconds: 3.141592653589793, warnings: 2,
            stageTimes: [.power: 0, .bootloader: 0.1, .kernel: 4.5, .userspace: 7.123456789, .prompt: 12],
            energyJoules: 123.456, averagePowerWatts: 2.94, peakPowerWatts: 5.1)
    }

    /// A minimal record of `board` started at `startedAt`.
    static func record(_ id: String, board: String, startedAt: String, status: BootStatus = .pass) -> BootRecord {
        BootRecord(
            id: id, lab: "lab", board: board, boardType: "qemu-arm64-uboot", revision: Revision(), build: Build(),
            startedAt: startedAt, status: status, stage: status == .pass ? .prompt : .kernel)
    }

    /// A transcript with bytes that are not text, over several lines that arrived at different times.
    static func rawTranscript() -> ConsoleTranscript {
        var transcript = ConsoleTranscript()
        transcript.append(Array("U-Boot 2024.01\r\n".utf8), at: 1_500)
        transcript.append([0x00, 0xFF, 0xFE, 0x1B, 0x5B, 0x30, 0x6D, 0x0D, 0x0A], at: 250_000_000)
        transcript.append([0xC3, 0x28, 0x0D, 0x0D, 0x0A, 0x00], at: 4_000_000_000)
        transcript.append(Array("\n~ # ".utf8), at: 9_000_000_001)
        return transcript
    }

    /// Text is bound and read with its length: a NUL inside survives, and empty text is not NULL.
    @Test func textWithNULAndEmptyTextRoundTrip() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        var record = Self.record("nul", board: "board\u{0}two", startedAt: "2026-01-01T00:00:00Z", status: .fail)
        record.reason = "oops\u{0}after the NUL ✓"
        record.build.compiler = ""
        record.finishedAt = ""
        try store.insert(record)
        let stored = try #require(try store.boot(id: "nul"))
        #expect(stored.reason == record.reason)
        #expect(stored.board == "board\u{0}two")
        #expect(stored.build.compiler == "")
        #expect(stored.finishedAt == "")
    }

    @Test func recordAndLogRoundTripExactly() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        let record = Self.fullRecord()
        let transcript = Self.rawTranscript()
        try store.insert(record, log: transcript)

        let stored = try #require(try store.boot(id: record.id))
        #expect(stored == record)
        #expect(stored.stageTimes == record.stageTimes)

        let log = try #require(try store.log(bootID: record.id))
        #expect(log.bytes == transcript.bytes)
        #expect(log.lineTimes == transcript.lineTimes)
        #expect(log.lineStarts == transcript.lineStarts)
        #expect(log.lastLineOpen)
        #expect(log.lineTimes == [1_500, 250_000_000, 4_000_000_000, 4_000_000_000, 9_000_000_001])
    }

    @Test func absentValuesStayAbsent() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        let record = Self.record("minimal", board: "board-a", startedAt: "2024-01-01T00:00:00Z", status: .error)
        try store.insert(record)
        let stored = try #require(try store.boot(id: "minimal"))
        #expect(stored == record)
        #expect(stored.finishedAt == nil)
        #expect(stored.revision.commitTime == nil)
        #expect(stored.build.kernelImageSizeBytes == nil)
        #expect(stored.bootTimeSeconds == nil)
        #expect(stored.energyJoules == nil)
        #expect(try store.log(bootID: "minimal") == nil, "no log was stored")
    }

    @Test func emptyLogIsStored() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        let record = Self.record("silent", board: "board-a", startedAt: "2024-01-01T00:00:00Z", status: .error)
        try store.insert(record, log: ConsoleTranscript())
        let log = try #require(try store.log(bootID: "silent"))
        #expect(log.bytes.isEmpty)
        #expect(log.lineTimes.isEmpty)
    }

    @Test func unknownIdsFindNothing() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        #expect(try store.boot(id: "nope") == nil)
        #expect(try store.log(bootID: "nope") == nil)
        #expect(try store.recentBoots().isEmpty)
        #expect(try store.count() == 0)
    }

    @Test func recentBootsAreNewestFirstAndFilterByBoard() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        try store.insert(Self.record("a1", board: "board-a", startedAt: "2024-03-01T10:00:00Z"))
        try store.insert(Self.record("b1", board: "board-b", startedAt: "2024-03-03T10:00:00Z"))
        try store.insert(Self.record("a2", board: "board-a", startedAt: "2024-03-02T10:00:00Z"))
        try store.insert(Self.record("b2", board: "board-b", startedAt: "2024-03-04T10:00:00Z"))
        // Same start time: the one stored later comes first.
        try store.insert(Self.record("a3", board: "board-a", startedAt: "2024-03-02T10:00:00Z"))

        #expect(try store.count() == 5)
        #expect(try store.recentBoots().map(\.id) == ["b2", "b1", "a3", "a2", "a1"])
        #expect(try store.recentBoots(limit: 2).map(\.id) == ["b2", "b1"])
        #expect(try store.recentBoots(board: "board-a").map(\.id) == ["a3", "a2", "a1"])
        #expect(try store.recentBoots(limit: 1, board: "board-a").map(\.id) == ["a3"])
        #expect(try store.recentBoots(board: "board-z").isEmpty)
        #expect(try store.recentBoots(limit: 0).isEmpty)
    }

    @Test func reinsertingAnIdReplacesTheRecordAndItsLog() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        var record = Self.fullRecord()
        try store.insert(record, log: Self.rawTranscript())

        record.status = .pass
        record.stage = .prompt
        record.reason = ""
        var newLog = ConsoleTranscript()
        newLog.append(Array("second attempt\n".utf8), at: 42)
        try store.insert(record, log: newLog)

        #expect(try store.count() == 1)
        #expect(try store.recentBoots().map(\.id) == [record.id])
        #expect(try store.boot(id: record.id) == record)
        #expect(try store.log(bootID: record.id)?.bytes == Array("second attempt\n".utf8))
        #expect(try store.log(bootID: record.id)?.lineTimes == [42])
    }

    @Test func reopeningKeepsDataAndSchemaVersion() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("results.sqlite")
        let record = Self.fullRecord()
        do {
            let store = try ResultStore(path: path)
            try store.insert(record, log: Self.rawTranscript())
        }
        for _ in 0..<2 {
            let store = try ResultStore(path: path)
            #expect(try store.count() == 1)
            #expect(try store.boot(id: record.id) == record)
            #expect(try store.log(bootID: record.id)?.bytes == Self.rawTranscript().bytes)
        }
        let file = try RawSQLiteFile(path: path)
        #expect(try file.integer("PRAGMA user_version") == StoreSchema.migrations.count)
        #expect(try file.integer("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'boots'") == 1)
        #expect(try file.integer("PRAGMA page_size") == 16_384, "a new store has 16 KiB pages")
    }

    @Test func missingFoldersAreCreated() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("nested/deeper/results.sqlite")
        let store = try ResultStore(path: path)
        try store.insert(Self.record("x", board: "board-a", startedAt: "2024-01-01T00:00:00Z"))
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test func folderUnderARegularFileCannotBeOpened() throws {
        let folder = try TemporaryFolder()
        let blocker = folder.file("blocker")
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("not a folder".utf8)))
        let path = (blocker as NSString).appendingPathComponent("sub/results.sqlite")
        let error = #expect(throws: StoreError.self) { try ResultStore(path: path) }
        guard case .cannotOpen(let reportedPath, let message)? = error else {
            Issue.record("expected StoreError.cannotOpen, got \(String(describing: error))")
            return
        }
        #expect(reportedPath == path)
        #expect(!message.isEmpty)
    }

    @Test(arguments: ["DELETE", "WAL"])
    func newerSchemaIsRefusedAndTheFileLeftUntouched(journalMode: String) throws {
        let folder = try TemporaryFolder()
        let path = folder.file("results.sqlite")
        let newer = StoreSchema.migrations.count + 1
        do {
            let file = try RawSQLiteFile(path: path)
            try file.execute("PRAGMA journal_mode = \(journalMode)")
            try file.execute("CREATE TABLE boots_from_the_future (id TEXT PRIMARY KEY); PRAGMA user_version = \(newer)")
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let filesBefore = try folder.contents()

        let error = #expect(throws: StoreError.self) { try ResultStore(path: path) }
        guard case .newerSchema(let reportedPath, let found, let supported)? = error else {
            Issue.record("expected StoreError.newerSchema, got \(String(describing: error))")
            return
        }
        #expect(reportedPath == path)
        #expect(found == newer)
        #expect(supported == StoreSchema.migrations.count)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(try folder.contents() == filesBefore)
        #expect(try RawSQLiteFile(path: path).integer("PRAGMA user_version") == newer)
    }
}
