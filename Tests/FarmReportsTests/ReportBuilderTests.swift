import FarmCore
import FarmReports
import FarmStore
import Foundation
import Testing

/// The report built from a store (its narrow sample scan) against the finder run on the records.
@Suite struct ReportBuilderTests {
    /// A store holding `history`'s boots, in a folder removed afterwards.
    final class StoredHistory {
        let folder: String
        let store: ResultStore

        init(_ history: BootHistory) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-reports-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            store = try ResultStore(path: folder + "/results.sqlite")
            for boot in history.boots { try store.insert(boot) }
        }

        deinit { try? FileManager.default.removeItem(atPath: folder) }
    }

    @Test func storeReportEqualsTheFinderOnRecords() throws {
        let stored = try StoredHistory(SampleReport.history)
        let built = try ReportBuilder(store: stored.store).build(tree: BootHistory.tree, branch: BootHistory.branch)
        let expected = SampleReport.report
        #expect(built.revision == expected.revision)
        #expect(built.previous == expected.previous)
        let counts: [Int] = [built.boots, built.passed, built.failed, built.errors, built.boards]
        let expectedCounts: [Int] = [expected.boots, expected.passed, expected.failed, expected.errors, expected.boards]
        #expect(counts == expectedCounts)
        #expect(built.regressions == expected.regressions)
        #expect(built.fixed == expected.fixed)
        #expect(built.flaky == expected.flaky)
        #expect(built.conflicts == expected.conflicts)
        #expect(built.offline == expected.offline)
        #expect(built.otherFailures == expected.otherFailures)
        // Every section is there, so the comparison covers each of them.
        #expect(!built.regressions.isEmpty && !built.fixed.isEmpty && !built.flaky.isEmpty && !built.conflicts.isEmpty)
        #expect(!built.offline.isEmpty && !built.otherFailures.isEmpty)
    }

    @Test func anEarlierRevisionIsReportedWithOnlyItsPast() throws {
        let stored = try StoredHistory(SampleReport.history)
        let describe = SampleReport.history.revisions[4].describe
        let built = try ReportBuilder(store: stored.store).build(tree: BootHistory.tree, branch: BootHistory.branch, describe: describe)
        let expected = SampleReport.history.report(upTo: 4)
        #expect(built.revision.describe == describe)
        #expect(built.regressions == expected.regressions)
        #expect(built.fixed == expected.fixed)
        #expect(built.otherFailures == expected.otherFailures)
    }

    /// Streaks longer than the window are followed through the key's whole history.
    @Test func streaksOlderThanTheWindowAreFollowedToTheirStart() throws {
        var history = BootHistory(revisions: 8)
        let old = BootHistory.Slot(lab: "lab-a", board: "board-1", boardType: "type-1", arch: "arm64", defconfig: "defconfig")
        let never = BootHistory.Slot(lab: "lab-a", board: "board-2", boardType: "type-1", arch: "arm64", defconfig: "defconfig")
        // The same board with another defconfig: read along, never mistaken for the key.
        let sibling = BootHistory.Slot(lab: "lab-a", board: "board-1", boardType: "type-1", arch: "arm64", defconfig: "tinyconfig")
        history.boots(old, "PPFFFFFF")
        history.boots(never, "FFFFFFFF")
        history.boots(sibling, "FPPPPPPP")
        var settings = RegressionSettings()
        settings.historyRevisions = 2
        let stored = try StoredHistory(history)
        let built = try ReportBuilder(store: stored.store, settings: settings).build(tree: BootHistory.tree, branch: BootHistory.branch)
        let regression = try #require(built.bootRegressions.first { $0.key.board == "board-1" })
        #expect(built.bootRegressions.count == 1)
        #expect(regression.key.defconfig == "defconfig")
        #expect(regression.lastGood == history.revisions[1])
        #expect(regression.firstBad == history.revisions[2])
        #expect(!regression.isNew)
        let failure = try #require(built.otherFailures.first)
        #expect(built.otherFailures.count == 1)
        #expect(failure.key.board == "board-2")
        #expect(failure.firstBad == history.revisions[0])
    }
}
