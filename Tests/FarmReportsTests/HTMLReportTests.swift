import FarmCore
import FarmReports
import Testing

@Suite struct HTMLReportTests {
    static let scriptReason = "<script>alert(1)</script>"
    static let attributeReason = "\"><img onerror=x>"

    /// A report whose failure reasons try to inject markup.
    static var hostileReport: RegressionReport {
        var history = BootHistory(revisions: 2)
        history.boots(.rock5bLabA, "PF", reason: scriptReason)
        history.boots(.qemuX86, "-F", reason: attributeReason)
        var lab = BootHistory.Slot.qemuArm64
        lab.lab = "lab-'&'"
        history.boots(lab, "PE", reason: "console \u{1B}[31mclosed\u{1B}[0m")
        return history.report()
    }

    @Test func pageIsSelfContained() {
        for report in [SampleReport.report, Self.hostileReport] {
            let html = HTMLReport.render(report)
            #expect(html.hasPrefix("<!DOCTYPE html>"))
            #expect(html.hasSuffix("</html>\n"))
            #expect(!html.lowercased().contains("http"))
            #expect(!html.lowercased().contains("<script"))
            #expect(!html.lowercased().contains("<link"))
            #expect(!html.lowercased().contains("<img"))
            #expect(!html.lowercased().contains("src="))
            #expect(!html.lowercased().contains("url("))
            #expect(!html.lowercased().contains("@import"))
        }
    }

    @Test func reasonsAreEscaped() {
        let html = HTMLReport.render(Self.hostileReport)
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(html.contains("&quot;&gt;&lt;img onerror=x&gt;"))
        #expect(!html.contains(Self.scriptReason))
        #expect(!html.contains(Self.attributeReason))
        #expect(html.contains("lab-&#39;&amp;&#39;"))
        #expect(!html.contains("\u{1B}"))
    }

    @Test func everyNonEmptySectionIsATableWithARowPerFinding() {
        let report = SampleReport.report
        let html = HTMLReport.render(report)
        #expect(html.components(separatedBy: "<table>").count - 1 == 10)
        let findings =
            report.regressions.count + report.conflicts.count + report.fixed.count + report.flaky.count + report.offline.count
            + report.otherFailures.count
        // One header row per table, one row per finding.
        #expect(html.components(separatedBy: "<tr>").count - 1 == findings + 10)
        #expect(html.contains("<h2>Boot regressions (2)</h2>"))
        #expect(html.contains("<title>\(TextReport.subject(report))</title>"))
        #expect(!html.contains("No regressions."))
    }

    @Test func reportWithoutFindingsSaysSo() {
        var history = BootHistory(revisions: 2)
        history.boots(.qemuX86, "PP")
        let html = HTMLReport.render(history.report())
        #expect(html.contains("<p>No regressions.</p>"))
        #expect(!html.contains("<table>"))
    }
}
