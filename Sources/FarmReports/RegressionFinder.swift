import FarmCore
import FarmStore

/// Finds regressions at one revision of a tree/branch from the boots of that revision and its
/// history. Pure: no database, so every rule is tested on crafted histories.
///
/// Rules, per regression key (all but the revision):
/// - A revision's outcome for a key is `pass` or `fail` from its non-error boots (both: flaky
///   within retries); a revision with only infrastructure errors has no outcome and breaks no
///   pass→fail chain.
/// - `boot`: fails now, passed before; `isNew` when the previous outcome passed, else "failing
///   since" the first failure after the last pass.
/// - `fixed`: passes now, failed on the previous outcome.
/// - `flaky`: retries disagree now, or pass/fail changed `flakyTransitions` times within the
///   window; never reported as `boot` or `fixed`.
/// - `conflict`: fails here while the same build on the same board type passes in another lab.
/// - `boot_time`/`energy`: above median + `noiseFactor` × 1.4826 × MAD of the last passing
///   samples *and* above median × (1 + relative threshold).
/// - `kernel_size`: the image of an arch/defconfig/compiler grew by more than `kernelSizePercent`.
/// - `warnings`: more warnings than on the previous revision.
public struct RegressionFinder: Sendable {
    public var settings: RegressionSettings

    public init(settings: RegressionSettings = RegressionSettings()) {
        self.settings = settings
    }

    enum Outcome: Equatable {
        case pass, fail, mixed, error
    }

    /// What the finder needs of one boot (a small copy: cells hold many of them).
    typealias Sample = BootSample

    struct Cell {
        var boots: [Sample] = []
        var outcome: Outcome {
            var passes = 0
            var fails = 0
            var errors = 0
            for boot in boots {
                switch boot.status {
                case .pass: passes += 1
                case .fail: fails += 1
                case .error: errors += 1
                case .canceled: break
                }
            }
            if passes > 0 && fails > 0 { return .mixed }
            if passes > 0 { return .pass }
            if fails > 0 { return .fail }
            // Errors or cancellations only: no outcome for the kernel.
            return .error
        }
        /// The latest boot (by start time) with `status`.
        func latest(_ status: BootStatus? = nil) -> Sample? {
            boots.filter { status == nil || $0.status == status }.max { $0.startedAt < $1.startedAt }
        }
    }

    /// Analyzes `boots` (of one tree/branch) at the last of `revisions` (oldest first).
    public func report(tree: String, branch: String, revisions: [RevisionPoint], boots: [BootRecord]) -> RegressionReport? {
        let position = Dictionary(revisions.enumerated().map { ($0.element.describe, $0.offset) }, uniquingKeysWith: { first, _ in first })
        var lines: [RegressionKey: Int] = [:]
        var keys: [RegressionKey] = []
        var samples: [BootSample] = []
        for boot in boots {
            guard let revision = position[boot.revision.describe] else { continue }
            let key = RegressionKey(boot)
            let line =
                lines[key]
                ?? {
                    keys.append(key)
                    lines[key] = keys.count - 1
                    return keys.count - 1
                }()
            samples.append(BootSample(boot, line: line, revision: revision))
        }
        return try? report(tree: tree, branch: branch, revisions: revisions) { add in
            for sample in samples { add(sample) }
            return keys
        }
    }

    /// Analyzes the samples `forEachSample` gives (a store scan: `ResultStore.forEachSample`),
    /// whose `revision` indexes `revisions` (oldest first) and whose `line` indexes the keys it
    /// returns.
    public func report(
        tree: String, branch: String, revisions: [RevisionPoint], samples forEachSample: ((BootSample) -> Void) throws -> [RegressionKey]
    ) throws -> RegressionReport? {
        guard let target = revisions.last else { return nil }
        let targetIndex = revisions.count - 1
        // Per key, one cell per revision of the window (a flat array: the window is small).
        let emptyRow = [Cell?](repeating: nil, count: revisions.count)
        var rows: [[Cell?]] = []
        let keys = try forEachSample { sample in
            guard revisions.indices.contains(sample.revision) else { return }
            while sample.line >= rows.count { rows.append(emptyRow) }
            rows[sample.line].add(sample, at: sample.revision)
        }
        while rows.count < keys.count { rows.append(emptyRow) }
        var report = RegressionReport(
            tree: tree, branch: branch, revision: target, previous: revisions.count > 1 ? revisions[revisions.count - 2] : nil,
            boots: 0, passed: 0, failed: 0, errors: 0, boards: 0,
            regressions: [], fixed: [], flaky: [], conflicts: [], offline: [], otherFailures: [])
        var boards = Set<String>()
        var failingLines: [Int] = []
        var passingLabs: [[String]: Set<String>] = [:]

        for (line, key) in keys.enumerated() {
            let byRevision = rows[line]
            guard let current = byRevision[targetIndex] else { continue }
            for boot in current.boots {
                report.boots += 1
                switch boot.status {
                case .pass: report.passed += 1
                case .fail: report.failed += 1
                case .error: report.errors += 1
                case .canceled: break
                }
            }
            boards.insert("\(key.lab)/\(key.board)")
            let outcome = current.outcome
            // History: outcomes before the target, newest first, without error-only revisions.
            let history: [(index: Int, outcome: Outcome)] = (0..<targetIndex).reversed().compactMap { index in
                guard let cell = byRevision[index] else { return nil }
                let outcome = cell.outcome
                return outcome == .error ? nil : (index, outcome)
            }
            if outcome == .pass || outcome == .mixed { passingLabs[key.buildAndType, default: []].insert(key.lab) }

            switch outcome {
            case .error:
                let boot = current.latest(.error)
                report.offline.append(Finding(kind: .error, key: key, detail: boot?.reason ?? "", bootID: boot?.id))
                continue
            case .mixed:
                report.flaky.append(flakyFinding(key, current: current, detail: "pass and fail among the retries of this revision"))
                continue
            case .pass, .fail:
                break
            }
            let window = history.prefix(settings.historyRevisions)
            var transitions = 0
            var previousOutcome = outcome
            for entry in window {
                if entry.outcome == .mixed || entry.outcome != previousOutcome { transitions += 1 }
                previousOutcome = entry.outcome
            }
            if transitions >= settings.flakyTransitions {
                let passes = window.filter { $0.outcome == .pass }.count + (outcome == .pass ? 1 : 0)
                report.flaky.append(
                    flakyFinding(
                        key, current: current,
                        detail: "\(transitions) pass/fail changes in the last \(window.count + 1) revisions (\(passes) passed)"))
                continue
            }

            if outcome == .fail {
                failingLines.append(line)
                let boot = current.latest(.fail)
                // Walk back over the failure streak to the last pass.
                var firstBad = targetIndex
                var lastGood: Int?
                for entry in history {
                    if entry.outcome == .fail {
                        firstBad = entry.index
                    } else {
                        lastGood = entry.index
                        break
                    }
                }
                if let lastGood {
                    report.regressions.append(
                        Finding(
                            kind: .boot, key: key, lastGood: revisions[lastGood], firstBad: revisions[firstBad],
                            isNew: firstBad == targetIndex,
                            detail: boot?.reason ?? "", bootID: boot?.id))
                } else {
                    report.otherFailures.append(
                        Finding(
                            kind: .failure, key: key, firstBad: revisions[firstBad], isNew: firstBad == targetIndex,
                            detail: boot?.reason ?? "",
                            bootID: boot?.id))
                }
            } else {
                if let previous = history.first, previous.outcome == .fail {
                    var failingSince = previous.index
                    for entry in history.dropFirst() {
                        guard entry.outcome == .fail else { break }
                        failingSince = entry.index
                    }
                    let lastFailure = byRevision[previous.index]?.latest(.fail)
                    report.fixed.append(
                        Finding(
                            kind: .fixed, key: key, firstBad: revisions[failingSince],
                            detail: lastFailure?.reason ?? "", bootID: current.latest(.pass)?.id))
                }
                report.regressions += measured(
                    key, byRevision: byRevision, targetIndex: targetIndex, revisions: revisions, current: current)
            }
            if let warnings = warningsFinding(
                key, byRevision: byRevision, history: history, targetIndex: targetIndex, revisions: revisions, current: current)
            {
                report.regressions.append(warnings)
            }
        }

        for line in failingLines {
            let key = keys[line]
            let labs = passingLabs[key.buildAndType, default: []].subtracting([key.lab])
            guard !labs.isEmpty else { continue }
            let boot = rows[line][targetIndex]?.latest(.fail)
            report.conflicts.append(
                Finding(kind: .conflict, key: key, firstBad: target, detail: boot?.reason ?? "", otherLabs: labs.sorted(), bootID: boot?.id)
            )
        }
        report.regressions += kernelSizeFindings(keys: keys, rows: rows, targetIndex: targetIndex, revisions: revisions)
        report.boards = boards.count
        let order = Finding.reportOrder
        report.regressions.sort(by: order)
        report.fixed.sort(by: order)
        report.flaky.sort(by: order)
        report.conflicts.sort(by: order)
        report.offline.sort(by: order)
        report.otherFailures.sort(by: order)
        return report
    }

    private func flakyFinding(_ key: RegressionKey, current: Cell, detail: String) -> Finding {
        Finding(kind: .flaky, key: key, detail: detail, bootID: current.latest()?.id)
    }

    /// Boot time and energy against the noise of the key's recent passing history.
    private func measured(
        _ key: RegressionKey, byRevision: [Cell?], targetIndex: Int, revisions: [RevisionPoint], current: Cell
    ) -> [Finding] {
        var findings: [Finding] = []
        let passes = current.boots.filter { $0.status == .pass }
        let checks: [(Finding.Kind, (Sample) -> Double?, Double)] = [
            (.bootTime, { $0.bootTimeSeconds }, settings.bootTimeRelative),
            (.energy, { $0.energyJoules }, settings.energyRelative),
        ]
        for (kind, measure, relative) in checks {
            let values = passes.compactMap(measure)
            guard !values.isEmpty else { continue }
            let value = Statistics.median(values)
            var samples: [(index: Int, value: Double)] = []
            for index in stride(from: targetIndex - 1, through: 0, by: -1) {
                guard samples.count < settings.historyRevisions else { break }
                guard let cell = byRevision[index] else { continue }
                let old = cell.boots.filter { $0.status == .pass }.compactMap(measure)
                if !old.isEmpty { samples.append((index, Statistics.median(old))) }
            }
            guard samples.count >= settings.minimumSamples else { continue }
            let history = samples.map(\.value)
            let median = Statistics.median(history)
            // A zero baseline (a meter or clock that recorded nothing) gives no relative rise to judge.
            guard median > 0 else { continue }
            let noise = 1.4826 * Statistics.medianAbsoluteDeviation(history, median: median)
            guard value > median + settings.noiseFactor * noise, value > median * (1 + relative) else { continue }
            let name = kind == .bootTime ? "boot time" : "energy"
            let unit = kind == .bootTime ? "s" : "J"
            findings.append(
                Finding(
                    kind: kind, key: key, lastGood: samples.first.map { revisions[$0.index] }, firstBad: revisions[targetIndex],
                    isNew: true,
                    value: value, baseline: median,
                    detail:
                        "\(name) \(Statistics.format(value)) \(unit), median of last \(history.count) passes \(Statistics.format(median)) \(unit) (+\(Statistics.format((value / median - 1) * 100)) %)",
                    bootID: current.latest(.pass)?.id))
        }
        return findings
    }

    private func warningsFinding(
        _ key: RegressionKey, byRevision: [Cell?], history: [(index: Int, outcome: Outcome)], targetIndex: Int,
        revisions: [RevisionPoint], current: Cell
    ) -> Finding? {
        guard let previous = history.first, let previousCell = byRevision[previous.index] else { return nil }
        let now = current.boots.filter { $0.status != .error }.map(\.warnings).max() ?? 0
        let before = previousCell.boots.filter { $0.status != .error }.map(\.warnings).max() ?? 0
        guard now > before else { return nil }
        return Finding(
            kind: .warnings, key: key, lastGood: revisions[previous.index], firstBad: revisions[targetIndex], isNew: true,
            value: Double(now), baseline: Double(before), detail: "\(now) kernel warnings, \(before) before",
            bootID: current.boots.max { $0.warnings < $1.warnings }?.id)
    }

    /// Kernel image growth per build (tree, branch, arch, defconfig, compiler).
    private func kernelSizeFindings(keys: [RegressionKey], rows: [[Cell?]], targetIndex: Int, revisions: [RevisionPoint]) -> [Finding] {
        // Per build, per revision: the largest image and the key and boot that had it.
        var builds: [[String]: Int] = [:]
        var sizes: [[Int: (size: Int, key: RegressionKey, boot: String)]] = []
        for (line, key) in keys.enumerated() {
            var build: Int?
            for (index, cell) in rows[line].enumerated() {
                guard let cell else { continue }
                for boot in cell.boots {
                    guard let size = boot.kernelImageSizeBytes, size > 0 else { continue }
                    let slot =
                        build
                        ?? builds[key.build]
                        ?? {
                            sizes.append([:])
                            builds[key.build] = sizes.count - 1
                            return sizes.count - 1
                        }()
                    build = slot
                    if let existing = sizes[slot][index], existing.size >= size { continue }
                    sizes[slot][index] = (size, key, boot.id)
                }
            }
        }
        var findings: [Finding] = []
        for byRevision in sizes {
            guard let now = byRevision[targetIndex],
                let previousIndex = byRevision.keys.filter({ $0 < targetIndex }).max(), let before = byRevision[previousIndex]
            else { continue }
            let growth = (Double(now.size) / Double(before.size) - 1) * 100
            guard growth > settings.kernelSizePercent else { continue }
            var key = now.key
            key.board = ""
            key.lab = ""
            key.boardType = ""
            findings.append(
                Finding(
                    kind: .kernelSize, key: key, lastGood: revisions[previousIndex], firstBad: revisions[targetIndex], isNew: true,
                    value: Double(now.size), baseline: Double(before.size),
                    detail: "kernel image \(now.size) bytes, \(before.size) before (+\(Statistics.format(growth)) %)", bootID: now.boot))
        }
        return findings
    }
}

extension BootSample {
    /// What the finder needs of `record`, seen on line `line` at revision `revision`.
    init(_ record: BootRecord, line: Int, revision: Int) {
        self.init(
            line: line, revision: revision, id: record.id, status: record.status, startedAt: record.startedAt, reason: record.reason,
            bootTimeSeconds: record.bootTimeSeconds, energyJoules: record.energyJoules, warnings: record.warnings,
            kernelImageSizeBytes: record.build.kernelImageSizeBytes)
    }
}

extension Array where Element == RegressionFinder.Cell? {
    /// Adds a boot to the cell of revision `index`, creating the cell.
    mutating func add(_ sample: RegressionFinder.Sample, at index: Int) {
        if self[index] == nil { self[index] = RegressionFinder.Cell() }
        self[index]?.boots.append(sample)
    }
}

/// Robust statistics for noisy measurements.
enum Statistics {
    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    static func medianAbsoluteDeviation(_ values: [Double], median: Double) -> Double {
        Self.median(values.map { abs($0 - median) })
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        // Int(_:) traps on infinities, NaN and values beyond its range.
        guard rounded.isFinite, abs(rounded) < 1e15 else { return String(rounded) }
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
