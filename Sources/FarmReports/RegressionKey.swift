import FarmCore

/// Everything that identifies a line of boots across revisions: all but the revision.
public struct RegressionKey: Hashable, Sendable, Comparable {
    public var tree: String
    public var branch: String
    public var arch: String
    public var defconfig: String
    public var compiler: String
    public var boardType: String
    public var board: String
    public var lab: String

    public init(_ record: BootRecord) {
        tree = record.revision.tree
        branch = record.revision.branch
        arch = record.build.arch
        defconfig = record.build.defconfig
        compiler = record.build.compiler
        boardType = record.boardType
        board = record.board
        lab = record.lab
    }

    /// The same build on the same board type, in any lab on any board: what conflicts compare.
    public var buildAndType: [String] { [tree, branch, arch, defconfig, compiler, boardType] }

    /// The build alone: what kernel size compares.
    public var build: [String] { [tree, branch, arch, defconfig, compiler] }

    /// Report order: arch, defconfig, board, lab.
    public static func < (lhs: RegressionKey, rhs: RegressionKey) -> Bool {
        [lhs.arch, lhs.defconfig, lhs.compiler, lhs.board, lhs.lab, lhs.boardType]
            .lexicographicallyPrecedes([rhs.arch, rhs.defconfig, rhs.compiler, rhs.board, rhs.lab, rhs.boardType])
    }
}

/// A revision of a tree/branch, as reports name it.
public struct RevisionPoint: Hashable, Sendable {
    public var describe: String
    public var commit: String
    /// UTC ISO-8601; revisions are ordered by it.
    public var commitTime: String?

    public init(describe: String, commit: String, commitTime: String?) {
        self.describe = describe
        self.commit = commit
        self.commitTime = commitTime
    }
}
