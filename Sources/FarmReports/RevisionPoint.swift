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
