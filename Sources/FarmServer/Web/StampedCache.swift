import Foundation

/// Values derived from the store (regression reports, rendered pages, API answers), kept until
/// the store changes: each is kept with the store's change stamp when it was made, and is stale
/// once the stamp moves (any write, through this server or another process). People read the
/// same pages far more often than labs add boots.
final class StampedCache<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String: (stamp: String, value: Value, cost: Int)] = [:]
    private var order: [String] = []
    private var total = 0
    /// The most the kept values may cost together; the oldest go first.
    private let budget: Int
    private let cost: (Value) -> Int

    /// A cache of values costing `cost` each (1 by default: `budget` counts values).
    init(budget: Int, cost: @escaping (Value) -> Int = { _ in 1 }) {
        self.budget = budget
        self.cost = cost
    }

    /// The value for `key` as made while the store was at `stamp`, if kept.
    func value(_ key: String, stamp: String) -> Value? {
        lock.withLock {
            guard let entry = entries[key], entry.stamp == stamp else { return nil }
            return entry.value
        }
    }

    /// Keeps `value` for `key`, made at `stamp`. A value over a quarter of the budget is not kept.
    func keep(_ value: Value, key: String, stamp: String) {
        let size = cost(value)
        guard size <= budget / 4 else { return }
        lock.withLock {
            if let old = entries.updateValue((stamp, value, size), forKey: key) {
                total -= old.cost
            } else {
                order.append(key)
            }
            total += size
            while total > budget, !order.isEmpty {
                if let removed = entries.removeValue(forKey: order.removeFirst()) { total -= removed.cost }
            }
        }
    }
}
