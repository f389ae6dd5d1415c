import FarmCore

/// The report as JSON: counts, then `regressions`, `fixed`, `flaky`, `conflicts`, `errors` and
/// `failures` arrays whose items name the key, the last good and first bad revisions, and the
/// measured values.
public enum JSONReport {
    public static func object(_ report: RegressionReport) -> [String: Any] {
        var revision: [String: Any] = ["describe": report.revision.describe, "commit": report.revision.commit]
        revision["commit_time"] = report.revision.commitTime
        var object: [String: Any] = [
            "tree": report.tree, "branch": report.branch, "revision": revision,
            "subject": TextReport.subject(report),
            "counts": [
                "boots": report.boots, "passed": report.passed, "failed": report.failed, "errors": report.errors, "boards": report.boards,
            ],
            "regressions": report.regressions.map(item),
            "fixed": report.fixed.map(item),
            "flaky": report.flaky.map(item),
            "conflicts": report.conflicts.map(item),
            "errors": report.offline.map(item),
            "failures": report.otherFailures.map(item),
        ]
        object["previous"] = report.previous.map(point)
        return object
    }

    public static func render(_ report: RegressionReport) -> String {
        JSONOutput.text(object(report), pretty: true) + "\n"
    }

    static func point(_ point: RevisionPoint) -> [String: Any] {
        var object: [String: Any] = ["describe": point.describe, "commit": point.commit]
        object["commit_time"] = point.commitTime
        return object
    }

    static func item(_ finding: Finding) -> [String: Any] {
        var object: [String: Any] = [
            "kind": finding.kind.rawValue, "tree": finding.key.tree, "branch": finding.key.branch,
            "board": finding.key.board, "board_type": finding.key.boardType, "arch": finding.key.arch,
            "defconfig": finding.key.defconfig, "compiler": finding.key.compiler, "lab": finding.key.lab,
            "new": finding.isNew, "detail": finding.detail,
        ]
        object["last_good"] = finding.lastGood.map(point)
        object["first_bad"] = finding.firstBad.map(point)
        if let value = finding.value {
            object["value"] = value
            object["unit"] = finding.unit
        }
        object["baseline"] = finding.baseline
        if !finding.otherLabs.isEmpty { object["other_labs"] = finding.otherLabs }
        object["boot_id"] = finding.bootID
        return object
    }
}
