import FarmCore

/// One thing a report says about a key at the revision reported.
public struct Finding: Sendable, Equatable {
    /// What was found.
    public enum Kind: String, Sendable, CaseIterable {
        /// Passed on an earlier revision, fails now.
        case boot
        /// Failed on the previous revision, passes now.
        case fixed
        /// Alternates between pass and fail.
        case flaky
        /// Fails in one lab while the same board type passes in another, on this revision.
        case conflict
        /// Infrastructure errors only (the board was offline).
        case error
        /// Fails and never passed in the history examined.
        case failure
        /// Boot time rose beyond the key's noise.
        case bootTime = "boot_time"
        /// Energy rose beyond the key's noise.
        case energy
        /// The kernel image grew.
        case kernelSize = "kernel_size"
        /// More kernel warnings than on the previous revision.
        case warnings
    }

    public var kind: Kind
    public var key: RegressionKey
    /// Last revision that passed (or had the old value), where it applies.
    public var lastGood: RevisionPoint?
    /// First revision that failed (or had the new value), where it applies.
    public var firstBad: RevisionPoint?
    /// True when the first bad revision is the one reported.
    public var isNew: Bool
    /// The value now (seconds, joules, bytes, warnings).
    public var value: Double?
    /// The value it is compared with (median of history, or the previous revision's).
    public var baseline: Double?
    /// One line: the failure's reason, or what the measurement means.
    public var detail: String
    /// Other labs involved (conflicts: where it passes).
    public var otherLabs: [String]
    /// The boot the finding is about, at the revision reported.
    public var bootID: String?

    public init(
        kind: Kind, key: RegressionKey, lastGood: RevisionPoint? = nil, firstBad: RevisionPoint? = nil, isNew: Bool = false,
        value: Double? = nil, baseline: Double? = nil, detail: String = "", otherLabs: [String] = [], bootID: String? = nil
    ) {
        self.kind = kind
        self.key = key
        self.lastGood = lastGood
        self.firstBad = firstBad
        self.isNew = isNew
        self.value = value
        self.baseline = baseline
        self.detail = detail
        self.otherLabs = otherLabs
        self.bootID = bootID
    }

    /// The order reports list findings in: by kind (boot regressions first), then by key
    /// (arch, defconfig, compiler, board, lab).
    public static func reportOrder(_ lhs: Finding, _ rhs: Finding) -> Bool {
        guard lhs.kind == rhs.kind else {
            return (Kind.allCases.firstIndex(of: lhs.kind) ?? 0) < (Kind.allCases.firstIndex(of: rhs.kind) ?? 0)
        }
        return lhs.key < rhs.key
    }

    /// The unit of `value`.
    public var unit: String {
        switch kind {
        case .bootTime: "s"
        case .energy: "J"
        case .kernelSize: "bytes"
        case .warnings: "warnings"
        default: ""
        }
    }
}

/// Everything a report says about one revision of a tree/branch.
public struct RegressionReport: Sendable {
    public var tree: String
    public var branch: String
    public var revision: RevisionPoint
    /// The revision before it, if any.
    public var previous: RevisionPoint?
    public var boots: Int
    public var passed: Int
    public var failed: Int
    public var errors: Int
    public var boards: Int
    /// Boot regressions and measured regressions (boot time, energy, size, warnings).
    public var regressions: [Finding]
    public var fixed: [Finding]
    public var flaky: [Finding]
    public var conflicts: [Finding]
    /// Keys with infrastructure errors only (offline boards).
    public var offline: [Finding]
    /// Failures that never passed in the history examined.
    public var otherFailures: [Finding]

    /// Boot regressions only.
    public var bootRegressions: [Finding] { regressions.filter { $0.kind == .boot } }
    /// Boot time, energy, size and warning regressions.
    public var measuredRegressions: [Finding] { regressions.filter { $0.kind != .boot } }
}
