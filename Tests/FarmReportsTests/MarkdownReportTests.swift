import FarmCore
import FarmReports
import Testing

@Suite struct MarkdownReportTests {
    @Test func everyNonEmptySectionIsATable() {
        let markdown = MarkdownReport.render(SampleReport.report)
        #expect(markdown.hasPrefix("# \(TextReport.subject(SampleReport.report))\n"))
        #expect(markdown.components(separatedBy: "\n## ").count - 1 == 10)
        #expect(markdown.contains("\n## Boot regressions\n"))
        #expect(!markdown.contains("No regressions."))
    }

    @Test func cellsCannotBreakTheTable() {
        var history = BootHistory(revisions: 2)
        history.boots(.rock5bLabA, "PF", reason: "a | b <b>bold</b>\nnext")
        let markdown = MarkdownReport.render(history.report())
        let row = markdown.split(separator: "\n").first { $0.contains("rock5b-1") } ?? ""
        #expect(row.contains("a \\| b &lt;b&gt;bold&lt;/b&gt; next"))
        // arch, defconfig, compiler, board, lab, what, last good, first bad: 9 unescaped bars.
        #expect(row.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count == 9)
    }
}
