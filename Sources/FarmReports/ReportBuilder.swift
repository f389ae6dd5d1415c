import FarmCore
import FarmStore

/// A report that cannot be built.
public enum ReportError: Error, Sendable, CustomStringConvertible {
    /// The store has no boots of the tree/branch.
    case noRevisions(tree: String, branch: String, known: [String])
    /// The revision asked for is not in the store.
    case unknownRevision(describe: String, tree: String, branch: String, recent: [String])

    public var description: String {
        switch self {
        case .noRevisions(let tree, let branch, let known):
            "no boots of \(tree)/\(branch) in the results store" + (known.isEmpty ? "" : "; it has: \(known.joined(separator: ", "))")
        case .unknownRevision(let describe, let tree, let branch, let recent):
            "no revision '\(describe)' of \(tree)/\(branch); newest: \(recent.joined(separator: ", "))"
        }
    }
}

/// Loads what a report needs from the store and runs the regression finder on it.
///
/// Only the revision reported and `historyRevisions` before it are read (indexed by revision);
/// keys whose failure streak reaches back past that window get their own full history, so
/// "failing since" is exact without reading the whole store.
public struct ReportBuilder: Sendable {
    public let store: ResultStore
    public var settings: RegressionSettings

    public init(store: ResultStore, settings: RegressionSettings = RegressionSettings()) {
        self.store = store
        self.settings = settings
    }

    /// The report of `describe` (default: the newest revision) of `tree`/`branch`.
    public func build(tree: String, branch: String, describe: String? = nil) throws -> RegressionReport {
        let all = try store.revisions(tree: tree, branch: branch)
        guard !all.isEmpty else {
            throw ReportError.noRevisions(tree: tree, branch: branch, known: try store.branches().map { "\($0.tree)/\($0.branch)" })
        }
        let targetIndex: Int
        if let describe {
            guard let index = all.lastIndex(where: { $0.describe == describe }) else {
                throw ReportError.unknownRevision(
                    describe: describe, tree: tree, branch: branch, recent: all.suffix(5).reversed().map(\.describe))
            }
            targetIndex = index
        } else {
            targetIndex = all.count - 1
        }
        let points = all[...targetIndex].map { RevisionPoint(describe: $0.describe, commit: $0.commit, commitTime: $0.commitTime) }
        let window = Array(points.suffix(settings.historyRevisions + 1))
        let finder = RegressionFinder(settings: settings)
        guard
            var report = try finder.report(
                tree: tree, branch: branch, revisions: window,
                samples: { body in try store.forEachSample(tree: tree, branch: branch, describes: window.map(\.describe), body) })
        else {
            throw ReportError.noRevisions(tree: tree, branch: branch, known: [])
        }

        // Streaks that reach the window's oldest revision: read those keys' whole history.
        guard window.count < points.count, let oldest = window.first else { return report }
        let atEdge = report.otherFailures.filter { $0.firstBad == oldest } + report.bootRegressions.filter { $0.lastGood == nil }
        for finding in atEdge {
            let describes = points.map(\.describe)
            guard
                let full = try finder.report(
                    tree: tree, branch: branch, revisions: points,
                    samples: { body in
                        try store.forEachSample(
                            tree: tree, branch: branch, describes: describes, lab: finding.key.lab, board: finding.key.board, body)
                    })
            else { continue }
            if let replacement = full.bootRegressions.first(where: { $0.key == finding.key }) {
                report.otherFailures.removeAll { $0.key == finding.key }
                report.regressions.append(replacement)
            } else if let replacement = full.otherFailures.first(where: { $0.key == finding.key }) {
                report.otherFailures = report.otherFailures.map { $0.key == finding.key ? replacement : $0 }
            }
        }
        report.regressions.sort(by: Finding.reportOrder)
        return report
    }
}
