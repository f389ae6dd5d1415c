import FarmCore

/// The plain-text boot report kernel developers know from KernelCI: a subject line, the revision,
/// then red flags first (regressions), the rest summarised; empty sections are left out.
public enum TextReport {
    /// `{tree}/{branch} boot: N boots: F failed, P passed, E errors (describe)`.
    public static func subject(_ report: RegressionReport) -> String {
        "\(report.tree)/\(report.branch) boot: \(report.boots) boots: \(report.failed) failed, \(report.passed) passed, "
            + "\(report.errors) errors (\(report.revision.describe))"
    }

    /// The whole report.
    public static func render(_ report: RegressionReport) -> String {
        var lines: [String] = [subject(report), ""]
        lines.append("Tree:         \(report.tree)")
        lines.append("Branch:       \(report.branch)")
        lines.append("Git Describe: \(report.revision.describe)")
        if !report.revision.commit.isEmpty { lines.append("Git Commit:   \(report.revision.commit)") }
        if let previous = report.previous { lines.append("Compared to:  \(previous.describe)") }
        lines.append("Tested:       \(report.boards) unique board\(report.boards == 1 ? "" : "s")")

        section(&lines, "Boot Regressions Detected:", report.bootRegressions) { finding in
            let lastPass = finding.lastGood?.describe ?? "never"
            let state =
                finding.isNew
                ? "new failure (last pass: \(lastPass))"
                : "failing since \(finding.firstBad?.describe ?? "?") (last pass: \(lastPass))"
            let conflict = report.conflicts.contains { $0.key == finding.key } ? " [passes in another lab]" : ""
            return "\(state)\(conflict)" + (finding.detail.isEmpty ? "" : ": \(finding.detail)")
        }
        section(&lines, "Conflicts (fail here, pass in another lab):", report.conflicts) { finding in
            "fails; passes in \(finding.otherLabs.joined(separator: ", "))" + (finding.detail.isEmpty ? "" : ": \(finding.detail)")
        }
        section(&lines, "Boot Time Regressions:", report.measuredRegressions.filter { $0.kind == .bootTime }) { $0.detail }
        section(&lines, "Energy Regressions:", report.measuredRegressions.filter { $0.kind == .energy }) { $0.detail }
        section(&lines, "Kernel Size Regressions:", report.measuredRegressions.filter { $0.kind == .kernelSize }, boardLevel: false) {
            "\($0.detail) (last: \($0.lastGood?.describe ?? "?"))"
        }
        section(&lines, "Warning Regressions:", report.measuredRegressions.filter { $0.kind == .warnings }) {
            "\($0.detail) (\($0.lastGood?.describe ?? "?"))"
        }
        section(&lines, "Fixed:", report.fixed) { finding in
            "fixed (was failing since \(finding.firstBad?.describe ?? "?"))"
        }
        section(&lines, "Other Boot Failures:", report.otherFailures) { finding in
            (finding.isNew ? "failed" : "failing since \(finding.firstBad?.describe ?? "?")")
                + (finding.detail.isEmpty ? "" : ": \(finding.detail)")
        }
        section(&lines, "Flaky (not counted as regressions):", report.flaky) { $0.detail }
        section(&lines, "Offline Platforms (infrastructure errors):", report.offline) { finding in
            finding.detail.isEmpty ? "offline" : "offline: \(finding.detail)"
        }
        if report.bootRegressions.isEmpty && report.measuredRegressions.isEmpty && report.conflicts.isEmpty {
            lines += ["", "No regressions."]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One section, grouped arch → defconfig → compiler → board → lab.
    static func section(
        _ lines: inout [String], _ title: String, _ findings: [Finding], boardLevel: Bool = true, describe: (Finding) -> String
    ) {
        guard !findings.isEmpty else { return }
        lines += ["", title]
        var arch: String?
        var defconfig: String?
        var compiler: String?
        var board: String?
        for finding in findings.sorted(by: { $0.key < $1.key }) {
            let key = finding.key
            if key.arch != arch {
                lines += ["", "\(key.arch.isEmpty ? "(no arch)" : key.arch):"]
                arch = key.arch
                defconfig = nil
            }
            if key.defconfig != defconfig {
                lines += ["", "    \(key.defconfig.isEmpty ? "(no defconfig)" : key.defconfig):"]
                defconfig = key.defconfig
                compiler = nil
            }
            if key.compiler != compiler {
                lines.append("        \(key.compiler.isEmpty ? "(no compiler)" : key.compiler):")
                compiler = key.compiler
                board = nil
            }
            guard boardLevel else {
                lines.append("            \(describe(finding))")
                continue
            }
            if key.board != board {
                lines.append("          \(key.board) (\(key.boardType)):")
                board = key.board
            }
            lines.append("              \(key.lab): \(describe(finding))")
        }
    }
}
