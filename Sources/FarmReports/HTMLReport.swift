import FarmCore

/// The report as one self-contained HTML page (inline styles, no scripts, no external files).
public enum HTMLReport {
    /// Sections in the order every format shows them: red flags first.
    package static func sections(_ report: RegressionReport) -> [(String, [Finding])] {
        [
            ("Boot regressions", report.bootRegressions),
            ("Conflicts", report.conflicts),
            ("Boot time regressions", report.measuredRegressions.filter { $0.kind == .bootTime }),
            ("Energy regressions", report.measuredRegressions.filter { $0.kind == .energy }),
            ("Kernel size regressions", report.measuredRegressions.filter { $0.kind == .kernelSize }),
            ("Warning regressions", report.measuredRegressions.filter { $0.kind == .warnings }),
            ("Fixed", report.fixed),
            ("Other failures", report.otherFailures),
            ("Flaky", report.flaky),
            ("Offline boards", report.offline),
        ]
    }

    /// One line about a finding.
    package static func summary(_ finding: Finding) -> String {
        switch finding.kind {
        case .boot:
            (finding.isNew ? "new failure" : "failing since \(finding.firstBad?.describe ?? "?")")
                + (finding.detail.isEmpty ? "" : ": \(finding.detail)")
        case .conflict: "passes in \(finding.otherLabs.joined(separator: ", "))" + (finding.detail.isEmpty ? "" : ": \(finding.detail)")
        case .fixed: "fixed (was failing since \(finding.firstBad?.describe ?? "?"))"
        case .error: finding.detail.isEmpty ? "offline" : "offline: \(finding.detail)"
        default: finding.detail
        }
    }

    public static func render(_ report: RegressionReport) -> String {
        let e = MarkupEscaping.escape
        var html = """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(e(TextReport.subject(report)))</title>
            <style>
            body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1b1f24}
            h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.6em}
            table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
            th{background:#f6f8fa}.counts span{display:inline-block;margin-right:1.2em}
            .fail{color:#b42318}.pass{color:#1a7f37}.error{color:#9a6700}code{font-family:ui-monospace,monospace}
            </style></head><body>
            <h1>\(e(TextReport.subject(report)))</h1>
            <p class="counts"><span>tree <b>\(e(report.tree))</b></span><span>branch <b>\(e(report.branch))</b></span>\
            <span>describe <code>\(e(report.revision.describe))</code></span><span>commit <code>\(e(report.revision.commit))</code></span></p>
            <p class="counts"><span>\(report.boots) boots</span><span class="pass">\(report.passed) passed</span>\
            <span class="fail">\(report.failed) failed</span><span class="error">\(report.errors) errors</span><span>\(report.boards) boards</span></p>

            """
        var any = false
        for (title, findings) in sections(report) where !findings.isEmpty {
            any = true
            html +=
                "<h2>\(e(title)) (\(findings.count))</h2>\n<table><tr><th>arch</th><th>defconfig</th><th>compiler</th><th>board</th><th>lab</th><th>what</th><th>last good</th><th>first bad</th></tr>\n"
            for finding in findings {
                let key = finding.key
                html +=
                    "<tr><td>\(e(key.arch))</td><td>\(e(key.defconfig))</td><td>\(e(key.compiler))</td><td>\(e(key.board))<br><small>\(e(key.boardType))</small></td>"
                html +=
                    "<td>\(e(key.lab))</td><td>\(e(summary(finding)))</td><td><code>\(e(finding.lastGood?.describe ?? ""))</code></td><td><code>\(e(finding.firstBad?.describe ?? ""))</code></td></tr>\n"
            }
            html += "</table>\n"
        }
        if !any { html += "<p>No regressions.</p>\n" }
        return html + "</body></html>\n"
    }
}
