import FarmStore
import Foundation

/// Rendered pages (and API answers) kept until the store changes: a page of a big revision takes
/// a while to render, and people reload and share the same pages far more often than labs add
/// boots. Any change to the store (through this server or another process) makes every page stale.
final class PageCache: @unchecked Sendable {
    private let lock = NSLock()
    private var pages: [String: (stamp: String, html: String)] = [:]
    private var order: [String] = []
    private var bytes = 0
    /// The most page text kept, in bytes; the oldest pages go first.
    private let budget: Int

    init(budgetBytes: Int = 64 << 20) {
        budget = budgetBytes
    }

    /// The page for `key` as rendered while the store was at `stamp`, if kept.
    func page(_ key: String, stamp: String) -> String? {
        lock.withLock {
            guard let entry = pages[key], entry.stamp == stamp else { return nil }
            return entry.html
        }
    }

    func keep(_ html: String, key: String, stamp: String) {
        let size = html.utf8.count
        guard size <= budget / 4 else { return }
        lock.withLock {
            if let old = pages.updateValue((stamp, html), forKey: key) {
                bytes -= old.html.utf8.count
            } else {
                order.append(key)
            }
            bytes += size
            while bytes > budget, !order.isEmpty {
                let oldest = order.removeFirst()
                if let removed = pages.removeValue(forKey: oldest) { bytes -= removed.html.utf8.count }
            }
        }
    }
}
