import FarmCore
import Foundation

extension ResultStore {
    /// Stores a new token by the SHA-256 hex of its secret and returns its record.
    public func addToken(secretSHA256: String, role: APIToken.Role, lab: String?) throws(StoreError) -> APIToken {
        try locked { () throws(StoreError) in
            let createdAt = ISOTimestamp.format(Date().timeIntervalSince1970)
            let statement = try database.prepare("INSERT INTO api_tokens (secret_sha256, role, lab, created_at) VALUES (?, ?, ?, ?)")
            statement.bind(1, secretSHA256)
            statement.bind(2, role.rawValue)
            statement.bind(3, lab)
            statement.bind(4, createdAt)
            try statement.step()
            let id = try database.prepare("SELECT last_insert_rowid()")
            try id.step()
            return APIToken(id: id.int(0) ?? 0, role: role, lab: lab, createdAt: createdAt, revokedAt: nil)
        }
    }

    /// Every token, oldest first, revoked ones included.
    public func tokens() throws(StoreError) -> [APIToken] {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT \(Self.tokenColumns) FROM api_tokens ORDER BY id")
            var tokens: [APIToken] = []
            while try statement.step() { tokens.append(Self.readToken(statement)) }
            return tokens
        }
    }

    /// The token whose secret hashes to `secretSHA256`, revoked or not.
    public func token(secretSHA256: String) throws(StoreError) -> APIToken? {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("SELECT \(Self.tokenColumns) FROM api_tokens WHERE secret_sha256 = ?")
            statement.bind(1, secretSHA256)
            guard try statement.step() else { return nil }
            return Self.readToken(statement)
        }
    }

    /// Revokes token `id`; false when there is no such token or it was revoked already.
    public func revokeToken(id: Int) throws(StoreError) -> Bool {
        try locked { () throws(StoreError) in
            let statement = try database.prepare("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL")
            statement.bind(1, ISOTimestamp.format(Date().timeIntervalSince1970))
            statement.bind(2, id)
            try statement.step()
            return database.changes > 0
        }
    }

    private static let tokenColumns = "id, role, lab, created_at, revoked_at"

    private static func readToken(_ statement: SQLiteStatement) -> APIToken {
        APIToken(
            id: statement.int(0) ?? 0, role: APIToken.Role(rawValue: statement.string(1) ?? "") ?? .lab, lab: statement.string(2),
            createdAt: statement.string(3) ?? "", revokedAt: statement.string(4))
    }
}
