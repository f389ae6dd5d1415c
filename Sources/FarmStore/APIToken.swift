/// A token the results server accepts, as stored: never its secret, only the secret's SHA-256.
public struct APIToken: Sendable, Equatable {
    /// What a token may do.
    public enum Role: String, Sendable {
        /// Submit and delete the boots of one lab.
        case lab
        /// Anything.
        case admin
    }

    /// The token's number, used to revoke it.
    public var id: Int
    public var role: Role
    /// The lab a `lab` token submits for; nil for `admin`.
    public var lab: String?
    /// UTC ISO-8601 time it was created.
    public var createdAt: String
    /// UTC ISO-8601 time it was revoked; nil while it is valid.
    public var revokedAt: String?
}
