import FarmCore
import FarmReports
import Foundation
import Testing

@Suite struct TextReportTests {
    static let goldenFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    @Test func reportWithEverySectionMatchesTheGoldenFile() throws {
        let expected = try String(contentsOf: Self.goldenFolder.appendingPathComponent("report.txt"), encoding: .utf8)
        let actual = TextReport.render(SampleReport.report)
        #expect(actual == expected, "TextReport.render differs from Golden/report.txt; it rendered:\n\(actual)")
    }

    @Test func subjectCountsBootsAndNamesTheRevision() {
        #expect(
            TextReport.subject(SampleReport.report)
                == "mainline/master boot: 11 boots: 4 failed, 6 passed, 1 errors (\(SampleReport.history.revisions[6].describe))")
    }

    @Test func reportWithoutRegressionsSaysSoAndLeavesEmptySectionsOut() {
        var history = BootHistory(revisions: 3)
        history.boots(.rock5bLabA, "PFP")
        history.boots(.qemuX86, "PPP")
        let text = TextReport.render(history.report())
        #expect(text.contains("\nFixed:\n"))
        #expect(text.hasSuffix("\n\nNo regressions.\n"))
        for title in ["Boot Regressions Detected:", "Conflicts", "Boot Time Regressions:", "Flaky", "Offline Platforms"] {
            #expect(!text.contains(title), "\(title)")
        }
        #expect(text.contains("Tested:       2 unique boards\n"))
    }

    @Test func firstRevisionHasNothingToCompareTo() {
        var history = BootHistory(revisions: 1)
        history.boots(.qemuX86, "F")
        let text = TextReport.render(history.report())
        #expect(!text.contains("Compared to:"))
        #expect(text.contains("Tested:       1 unique board\n"))
        #expect(text.contains("lab-b: failed: \(BootHistory.failureReason)"))
    }
}
