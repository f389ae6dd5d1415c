import FarmCore
import FarmReports

/// A crafted boot history of one tree/branch: revisions oldest first, and boots added per board
/// with a pattern of outcomes, one letter per revision.
struct BootHistory {
    /// One board of one lab booting one build.
    struct Slot {
        var lab: String
        var board: String
        var boardType: String
        var arch: String
        var defconfig: String
        var compiler = "gcc-12"

        var build: Build { Build(arch: arch, defconfig: defconfig, compiler: compiler) }
    }

    static let tree = "mainline"
    static let branch = "master"
    static let failureReason = "kernel panic: Attempted to kill init!"
    static let errorReason = "relay usb-relay-1 did not answer"

    private(set) var revisions: [RevisionPoint]
    private(set) var boots: [BootRecord] = []

    /// `count` revisions: `v6.9-rc1`, then `v6.9-rc1-N-g…`, a day apart.
    init(revisions count: Int) {
        revisions = (0..<count).map { index in
            let commit = Self.commit(index)
            let describe = index == 0 ? "v6.9-rc1" : "v6.9-rc1-\(index * 7)-g\(commit.prefix(12))"
            return RevisionPoint(describe: describe, commit: commit, commitTime: Self.timestamp(day: index + 1, minute: 0))
        }
    }

    /// A deterministic, realistic-looking 40-digit commit hash for revision `index`.
    static func commit(_ index: Int) -> String {
        var state = UInt64(index + 1) &* 0x9E37_79B9_7F4A_7C15
        var digits = ""
        while digits.count < 40 {
            state ^= state >> 33
            state = state &* 0xFF51_AFD7_ED55_8CCD
            state ^= state >> 29
            let chunk = String(state, radix: 16)
            digits += String(repeating: "0", count: 16 - chunk.count) + chunk
        }
        return String(digits.prefix(40))
    }

    static func timestamp(day: Int, minute: Int) -> String {
        let hour = 8 + minute / 60
        return "2026-03-\(day < 10 ? "0" : "")\(day)T\(hour < 10 ? "0" : "")\(hour):\(minute % 60 < 10 ? "0" : "")\(minute % 60):00Z"
    }

    /// The revision at `index` as boots carry it.
    func revision(_ index: Int) -> Revision {
        let point = revisions[index]
        return Revision(
            tree: Self.tree, branch: Self.branch, commit: point.commit, describe: point.describe, commitTime: point.commitTime)
    }

    /// Adds one boot of `slot` at revision `index`.
    mutating func boot(
        _ slot: Slot, at index: Int, _ status: BootStatus, reason: String? = nil, bootTimeSeconds: Double? = nil,
        energyJoules: Double? = nil, warnings: Int = 0, kernelImageSizeBytes: Int? = nil
    ) {
        var build = slot.build
        build.kernelImageSizeBytes = kernelImageSizeBytes
        let defaultReason =
            switch status {
            case .pass: ""
            case .fail: Self.failureReason
            case .error: Self.errorReason
            case .canceled: "canceled by agent shutdown"
            }
        let sequence = boots.count
        boots.append(
            BootRecord(
                id: "\(slot.lab)-\(slot.board)-\(index)-\(sequence)", lab: slot.lab, board: slot.board, boardType: slot.boardType,
                revision: revision(index), build: build, startedAt: Self.timestamp(day: index + 1, minute: sequence % 600),
                status: status, stage: status == .pass ? .prompt : status == .error ? .power : .kernel,
                reason: reason ?? defaultReason, bootTimeSeconds: bootTimeSeconds, warnings: warnings, energyJoules: energyJoules))
    }

    /// Adds `record` as it is.
    mutating func append(_ record: BootRecord) {
        boots.append(record)
    }

    /// Adds boots of `slot` following `pattern`, one letter per revision from the oldest: `P` pass,
    /// `F` fail, `E` infrastructure error, `C` canceled, `M` a pass and a failing retry, `-` no boot.
    mutating func boots(_ slot: Slot, _ pattern: String, reason: String? = nil) {
        precondition(pattern.count == revisions.count, "one letter per revision")
        for (index, letter) in pattern.enumerated() {
            switch letter {
            case "P": boot(slot, at: index, .pass)
            case "F": boot(slot, at: index, .fail, reason: reason)
            case "E": boot(slot, at: index, .error, reason: reason)
            case "C": boot(slot, at: index, .canceled)
            case "M":
                boot(slot, at: index, .pass)
                boot(slot, at: index, .fail, reason: reason)
            case "-": break
            default: preconditionFailure("unknown letter \(letter)")
            }
        }
    }

    /// The report at the last revision.
    func report(settings: RegressionSettings = RegressionSettings()) -> RegressionReport {
        report(upTo: revisions.count - 1, settings: settings)
    }

    /// The report at revision `index`, with only the revisions up to it known.
    func report(upTo index: Int, settings: RegressionSettings = RegressionSettings()) -> RegressionReport {
        let known = Array(revisions[...index])
        guard let report = RegressionFinder(settings: settings).report(tree: Self.tree, branch: Self.branch, revisions: known, boots: boots)
        else { preconditionFailure("no revisions") }
        return report
    }
}

extension BootHistory.Slot {
    static let rock5bLabA = Self(lab: "lab-a", board: "rock5b-1", boardType: "rock5b-uboot", arch: "arm64", defconfig: "defconfig")
    static let rock5bLabB = Self(lab: "lab-b", board: "rock5b-2", boardType: "rock5b-uboot", arch: "arm64", defconfig: "defconfig")
    static let qemuArm64 = Self(lab: "lab-b", board: "qemu-arm64-1", boardType: "qemu-arm64-uboot", arch: "arm64", defconfig: "defconfig")
    static let qemuX86 = Self(lab: "lab-b", board: "qemu-x86-1", boardType: "qemu-x86_64", arch: "x86_64", defconfig: "x86_64_defconfig")
}
