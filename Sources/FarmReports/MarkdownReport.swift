import FarmCore

/// The report as Markdown (for merge requests and chat): a heading, counts, then one table per
/// non-empty section, red flags first.
public enum MarkdownReport {
    public static func render(_ report: RegressionReport) -> String {
        var lines = ["# \(TextReport.subject(report))", ""]
        lines.append("| tree | branch | describe | commit | boards |")
        lines.append("|---|---|---|---|---|")
        lines.append(
            "| \(cell(report.tree)) | \(cell(report.branch)) | \(cell(report.revision.describe)) | \(cell(report.revision.commit)) | \(report.boards) |"
        )
        for (title, findings) in HTMLReport.sections(report) where !findings.isEmpty {
            lines += [
                "", "## \(title)", "", "| arch | defconfig | compiler | board | lab | what | last good | first bad |",
                "|---|---|---|---|---|---|---|---|",
            ]
            for finding in findings {
                let key = finding.key
                lines.append(
                    "| \(cell(key.arch)) | \(cell(key.defconfig)) | \(cell(key.compiler)) | \(cell(key.board)) | \(cell(key.lab)) | "
                        + "\(cell(HTMLReport.summary(finding))) | \(cell(finding.lastGood?.describe ?? "")) | \(cell(finding.firstBad?.describe ?? "")) |"
                )
            }
        }
        if report.regressions.isEmpty && report.conflicts.isEmpty { lines += ["", "No regressions."] }
        return lines.joined(separator: "\n") + "\n"
    }

    static func cell(_ text: String) -> String {
        MarkupEscaping.escape(text).replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}
