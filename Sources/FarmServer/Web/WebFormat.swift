import FarmCore
import FarmReports
import Foundation

/// How dashboard pages show times, durations and findings.
enum WebFormat {
    /// `context` without empty strings, at any depth: a template's `{{#name}}` section treats an
    /// empty string as present, and pages show a section only when it has something in it.
    static func compact(_ context: [String: Any]) -> [String: Any] {
        var result: [String: Any] = [:]
        for (key, value) in context {
            switch value {
            case let text as String where text.isEmpty: continue
            case let nested as [String: Any]: result[key] = compact(nested)
            case let rows as [[String: Any]]: result[key] = rows.map(compact)
            default: result[key] = value
            }
        }
        return result
    }

    /// `2026-11-30T01:02:03Z` as `2026-11-30 01:02:03`.
    static func time(_ iso: String?) -> String {
        guard let iso, !iso.isEmpty else { return "" }
        return iso.replacingOccurrences(of: "T", with: " ").replacingOccurrences(of: "Z", with: "")
    }

    static func seconds(_ value: Double?) -> String {
        value.map { String(format: "%.2f s", $0) } ?? ""
    }

    static func joules(_ value: Double?) -> String {
        value.map { String(format: "%.1f J", $0) } ?? ""
    }

    /// The first 12 digits of a commit.
    static func shortCommit(_ commit: String) -> String { String(commit.prefix(12)) }

    /// A boot as a row of a table.
    static func bootRow(_ record: BootRecord) -> [String: Any] {
        [
            "id": record.id, "href": WebLinks.boot(record.id), "status": record.status.rawValue,
            "board": record.board, "boardHref": WebLinks.board(lab: record.lab, board: record.board),
            "boardType": record.boardType, "lab": record.lab, "labHref": WebLinks.lab(record.lab),
            "arch": record.build.arch, "defconfig": record.build.defconfig, "compiler": record.build.compiler,
            "tree": record.revision.tree, "branch": record.revision.branch, "describe": record.revision.describe,
            "revisionHref": WebLinks.revision(
                tree: record.revision.tree, branch: record.revision.branch, describe: record.revision.describe),
            "startedAt": time(record.startedAt), "bootTime": seconds(record.bootTimeSeconds), "energy": joules(record.energyJoules),
            "warnings": record.warnings, "reason": record.reason, "stage": record.stage.rawValue,
        ]
    }

    /// A finding as a row of a table, with links to its board, lab, boot and revisions.
    static func findingRow(_ finding: Finding, section: String, report: RegressionReport) -> [String: Any] {
        let key = finding.key
        var row: [String: Any] = [
            "section": section, "kind": finding.kind.rawValue, "arch": key.arch, "defconfig": key.defconfig, "compiler": key.compiler,
            "board": key.board, "boardHref": WebLinks.board(lab: key.lab, board: key.board), "lab": key.lab,
            "labHref": WebLinks.lab(key.lab), "what": HTMLReport.summary(finding), "tree": key.tree, "branch": key.branch,
            "describe": report.revision.describe,
            "revisionHref": WebLinks.revision(tree: key.tree, branch: key.branch, describe: report.revision.describe),
            "severity": [.boot, .conflict, .failure].contains(finding.kind) ? "fail" : finding.kind == .fixed ? "pass" : "warn",
        ]
        if let bootID = finding.bootID { row["bootHref"] = WebLinks.boot(bootID) }
        if let lastGood = finding.lastGood {
            row["lastGood"] = lastGood.describe
            row["lastGoodHref"] = WebLinks.revision(tree: key.tree, branch: key.branch, describe: lastGood.describe)
        }
        if let firstBad = finding.firstBad {
            row["firstBad"] = firstBad.describe
            row["firstBadHref"] = WebLinks.revision(tree: key.tree, branch: key.branch, describe: firstBad.describe)
        }
        return row
    }

    /// The report's findings, red flags first, as rows; `kinds` keeps only those kinds.
    static func findingRows(_ report: RegressionReport, kinds: Set<String>? = nil) -> [[String: Any]] {
        HTMLReport.sections(report).flatMap { title, findings in
            findings.filter { kinds?.contains($0.kind.rawValue) ?? true }.map { findingRow($0, section: title, report: report) }
        }
    }
}
