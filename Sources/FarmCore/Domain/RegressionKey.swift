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

    public init(
        tree: String, branch: String, arch: String, defconfig: String, compiler: String, boardType: String, board: String,
        lab: String
    ) {
        self.tree = tree
        self.branch = branch
        self.arch = arch
        self.defconfig = defconfig
        self.compiler = compiler
        self.boardType = boardType
        self.board = board
        self.lab = lab
    }

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
