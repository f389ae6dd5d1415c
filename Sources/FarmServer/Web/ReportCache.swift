import FarmReports
import FarmStore
import Foundation

/// Regression reports kept until the store changes: every dashboard page and API call about a
/// revision shows its regressions, and building them reads the boots of the revisions before it.
final class ReportCache: @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [String: (stamp: String, report: RegressionReport)] = [:]
    /// Reports kept; the oldest entry goes first when full.
    private let capacity: Int
    private var order: [String] = []

    init(capacity: Int = 128) {
        self.capacity = capacity
    }

    /// The report of `describe` (default the newest revision) of `tree`/`branch`, built when the
    /// store changed since it was last built.
    func report(store: ResultStore, tree: String, branch: String, describe: String?) throws -> RegressionReport {
        // The newest revision is named, so that asking for it by name or by default shares one report.
        let describe = try describe ?? store.revisions(tree: tree, branch: branch).last?.describe
        let key = [tree, branch, describe ?? ""].joined(separator: "\u{0}")
        let stamp = try store.changeStamp()
        if let cached = lock.withLock({ reports[key] }), cached.stamp == stamp { return cached.report }
        let report = try ReportBuilder(store: store).build(tree: tree, branch: branch, describe: describe)
        lock.withLock {
            if reports.updateValue((stamp, report), forKey: key) == nil {
                order.append(key)
                if order.count > capacity { reports[order.removeFirst()] = nil }
            }
        }
        return report
    }
}
