import FarmCore
import Foundation
import Testing

@testable import FarmStore

/// The board summary the store keeps with triggers must always equal what the boots say.
@Suite("the board summary kept beside the boots")
struct BoardSummaryTests {
    static func record(_ id: String, lab: String, board: String, minute: Int, status: BootStatus, type: String = "qemu-arm64")
        -> BootRecord
    {
        BootRecord(
            id: id, lab: lab, board: board, boardType: type, revision: Revision(tree: "t", branch: "b", describe: "v\(minute % 7)"),
            build: Build(arch: "arm64"), startedAt: String(format: "2024-03-01T%02d:%02d:00Z", minute / 60, minute % 60),
            status: status, stage: .prompt)
    }

    /// The summary computed the slow way: from every counted boot.
    static func expected(_ store: ResultStore) throws -> [BoardSummary] {
        let boots = try store.boots(BootFilter())
        return Dictionary(grouping: boots) { "\($0.lab)\u{0}\($0.board)" }.values.compactMap { group in
            guard let newest = group.max(by: { ($0.startedAt, $0.id) < ($1.startedAt, $1.id) }) else { return nil }
            return BoardSummary(
                lab: newest.lab, board: newest.board, boardType: newest.boardType, boots: group.count, lastBootAt: newest.startedAt,
                lastStatus: newest.status.rawValue)
        }.sorted { ($0.lab, $0.board) < ($1.lab, $1.board) }
    }

    @Test("inserts, replacements, superseded attempts and deletions keep it exact")
    func triggersKeepItExact() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        var generator = SystemRandomNumberGenerator()
        var ids: [String] = []
        for step in 0..<400 {
            let choice = Int.random(in: 0..<10, using: &generator)
            let board = "b\(Int.random(in: 0..<6, using: &generator))"
            let lab = ["lab-a", "lab-b"][Int.random(in: 0..<2, using: &generator)]
            let status: BootStatus = [.pass, .fail, .error][Int.random(in: 0..<3, using: &generator)]
            let minute = Int.random(in: 0..<600, using: &generator)
            switch choice {
            case 0..<5:
                let id = "boot-\(step)"
                ids.append(id)
                try store.insert(Self.record(id, lab: lab, board: board, minute: minute, status: status))
            case 5..<7 where !ids.isEmpty:
                // The same id again: replaced in place, possibly on another board and time.
                guard let id = ids.randomElement(using: &generator) else { continue }
                try store.insert(Self.record(id, lab: lab, board: board, minute: minute, status: status, type: "type-\(step)"))
            case 7 where !ids.isEmpty:
                try store.markSuperseded(bootIDs: [ids[Int.random(in: 0..<ids.count, using: &generator)]])
            case 8 where !ids.isEmpty:
                let id = ids.remove(at: Int.random(in: 0..<ids.count, using: &generator))
                _ = try store.deleteBoot(id: id)
            default:
                try store.submit([
                    ImportedBoot(record: Self.record("sub-\(step)", lab: lab, board: board, minute: minute, status: status))
                ])
            }
            if step % 50 == 49 { #expect(try store.boardSummaries() == Self.expected(store), "after step \(step)") }
        }
        #expect(try store.boardSummaries() == Self.expected(store))
        #expect(try store.boardSummaries(lab: "lab-a") == Self.expected(store).filter { $0.lab == "lab-a" })
    }

    /// An import file big enough (logs pad it) that the import builds its indexes and the board
    /// summary once at the end, with `records` boots; `repeated` writes each id twice, the second
    /// time on another board.
    static func bulkFile(_ folder: TemporaryFolder, records: Int, repeated: Bool = false) throws -> String {
        let padding = String(repeating: "x", count: 7_000)
        var lines = ""
        for index in 0..<records {
            let record = Self.record(
                "imp-\(index)", lab: "lab-\(index % 3)", board: "b\(index % 40)", minute: index % 1400,
                status: index % 17 == 0 ? .fail : .pass)
            lines += record.jsonLine(log: Array(padding.utf8)) + "\n"
            if repeated {
                var again = record
                again.board = "moved-\(index % 5)"
                lines += again.jsonLine() + "\n"
            }
        }
        try lines.write(toFile: folder.file("boots.jsonl"), atomically: true, encoding: .utf8)
        return folder.file("boots.jsonl")
    }

    @Test("a bulk import into an empty store counts boards as it goes and leaves the summary exact")
    func bulkImportTalliesBoards() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        _ = try store.importJSONLines(path: try Self.bulkFile(folder, records: 2_400))
        #expect(try store.boardSummaries() == Self.expected(store))
        #expect(try store.boardSummaries().count == 120)
        try store.insert(Self.record("late", lab: "lab-0", board: "b0", minute: 1439, status: .error))
        #expect(try store.boardSummaries() == Self.expected(store), "the triggers are back after the import")
        let labs = try store.labSummaries()
        #expect(labs.map(\.boards) == [40, 40, 40])
        #expect(labs.first?.boardsInError == 1)
    }

    @Test("a bulk import parsed in many batches on two threads stores every row, log and revision as one would")
    func bulkImportAcrossBatches() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        // Three batches and more, taken by both parsers. Every record of a revision names
        // another commit, so the revision row shows which record counted as its first boot: the
        // earliest start, and on a tie the earlier line, wherever the batches went.
        let padding = Array(String(repeating: "y", count: 4_000).utf8)
        var lines = ""
        var first: [String: (startedAt: String, index: Int)] = [:]
        var logged: [String] = []
        for index in 0..<12_500 {
            var record = Self.record(
                "bulk-\(index)", lab: "lab-\(index % 2)", board: "b\(index % 30)", minute: index * 7_919 % 1_400,
                status: index % 11 == 0 ? .fail : .pass)
            record.revision = Revision(tree: "t", branch: "b", commit: "c\(index)", describe: "v\(index % 5)")
            let log: [UInt8]? = index % 3 == 0 ? padding + Array("boot \(index)".utf8) : nil
            if log != nil { logged.append(record.id) }
            lines += record.jsonLine(log: log) + "\n"
            let describe = record.revision.describe
            if let known = first[describe], (known.startedAt, known.index) <= (record.startedAt, index) { continue }
            first[describe] = (record.startedAt, index)
        }
        try lines.write(toFile: folder.file("boots.jsonl"), atomically: true, encoding: .utf8)
        let summary = try store.importJSONLines(path: folder.file("boots.jsonl"))
        #expect(summary.imported == 12_500)
        #expect(try store.count() == 12_500)
        #expect(try store.boardSummaries() == Self.expected(store))
        let revisions = try store.revisions(tree: "t", branch: "b")
        #expect(revisions.count == 5)
        for revision in revisions {
            let expected = first[revision.describe]
            #expect(revision.commit == expected.map { "c\($0.index)" }, "revision \(revision.describe)")
            #expect(revision.firstSeen == expected?.startedAt, "revision \(revision.describe)")
        }
        for id in [logged[0], logged[logged.count / 2], logged[logged.count - 1]] {
            let log = String(decoding: try store.logBytes(bootID: id), as: UTF8.self)
            #expect(log == String(repeating: "y", count: 4_000) + "boot \(id.dropFirst("bulk-".count))")
        }
        let withLogs = try RawSQLiteFile(path: folder.file("results.sqlite")).integer("SELECT count(*) FROM boot_logs")
        #expect(withLogs == logged.count)
        let row = try store.boots(BootFilter()).first { $0.id == "bulk-12499" }
        #expect(row?.revision.describe == "v4" && row?.board == "b19" && row?.status == .pass)
    }

    @Test("a bulk import whose file repeats ids rebuilds the summary from the table instead")
    func bulkImportWithRepeatedIDs() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("results.sqlite"))
        _ = try store.importJSONLines(path: try Self.bulkFile(folder, records: 2_400, repeated: true))
        #expect(try store.count() == 2_400)
        #expect(try store.boardSummaries() == Self.expected(store))
        #expect(try store.boardSummaries().allSatisfy { $0.board.hasPrefix("moved-") })
    }
}
