/// The kernel source a boot was built from.
public struct Revision: Sendable, Codable, Hashable {
    /// The tree's name, such as `mainline` or `next`.
    public var tree: String
    /// The branch within the tree.
    public var branch: String
    /// The full commit hash.
    public var commit: String
    /// `git describe` output, such as `v6.1-rc3-12-gabcdef`.
    public var describe: String
    /// Commit time as UTC ISO-8601, used to order revisions of a branch.
    public var commitTime: String?

    public init(tree: String = "", branch: String = "", commit: String = "", describe: String = "", commitTime: String? = nil) {
        self.tree = tree
        self.branch = branch
        self.commit = commit
        self.describe = describe
        self.commitTime = commitTime
    }
}

/// How the kernel was built.
public struct Build: Sendable, Codable, Hashable {
    /// Kernel architecture: `arm64`, `x86_64`, `arm`.
    public var arch: String
    /// The defconfig, such as `defconfig` or `multi_v7_defconfig`.
    public var defconfig: String
    /// The compiler, such as `gcc-12`.
    public var compiler: String
    /// Size of the kernel image file booted, in bytes.
    public var kernelImageSizeBytes: Int?

    public init(arch: String = "", defconfig: String = "", compiler: String = "", kernelImageSizeBytes: Int? = nil) {
        self.arch = arch
        self.defconfig = defconfig
        self.compiler = compiler
        self.kernelImageSizeBytes = kernelImageSizeBytes
    }
}
