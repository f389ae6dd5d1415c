import FarmCore
import Foundation

/// One page of boots to list, newest first, with filters on any recorded field.
///
/// Pages are keyed on (`started_at`, `id`) rather than an offset, so a page stays correct while
/// new boots arrive and reading page 1000 costs the same as page 1.
public struct BootQuery: Sendable, Equatable {
    /// Filters by column: only boots whose column equals the value are listed.
    public var equal: [Field: String] = [:]
    /// Only boots that started at or after this UTC ISO-8601 time.
    public var since: String?
    /// Only boots that started before this UTC ISO-8601 time.
    public var until: String?
    /// Boots per page, 1 to `maximumLimit`.
    public var limit: Int = 50
    /// Where the previous page ended: its last boot's start time and id.
    public var after: BootCursor?

    /// The largest page.
    public static let maximumLimit = 1000

    /// A field boots can be filtered on; the raw value is the name in JSON and in the store.
    public enum Field: String, Sendable, CaseIterable {
        case tree, branch, describe, board
        case boardType = "board_type"
        case arch, defconfig, lab, status
    }

    public init() {}

    var clause: (sql: String, values: [String]) {
        var parts: [String] = ["superseded = 0"]
        var values: [String] = []
        for field in Field.allCases {
            guard let value = equal[field] else { continue }
            // With a board to look up, the lab only filters: `+lab` keeps SQLite from reading
            // the whole lab through boots_by_lab instead of the board's boots.
            let unindexed = field == .lab && equal[.board] != nil
            parts.append("\(unindexed ? "+" : "")\(field.rawValue) = ?")
            values.append(value)
        }
        if let since {
            parts.append("started_at >= ?")
            values.append(since)
        }
        if let until {
            parts.append("started_at < ?")
            values.append(until)
        }
        if let after {
            parts.append("(started_at, id) < (?, ?)")
            values += [after.startedAt, after.id]
        }
        return ("WHERE " + parts.joined(separator: " AND "), values)
    }
}

/// A position in the list of boots: the start time and id of the last boot a page held.
public struct BootCursor: Sendable, Equatable {
    public var startedAt: String
    public var id: String

    public init(startedAt: String, id: String) {
        self.startedAt = startedAt
        self.id = id
    }

    /// The cursor as an opaque token for a URL: base64url of `started_at`, a newline, and `id`.
    public var token: String {
        Data("\(startedAt)\n\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// Reads a token made by `token`; nil when it is not one.
    public init?(token: String) {
        guard !token.isEmpty, token.utf8.count <= 1024 else { return nil }
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: base64) else { return nil }
        let parts = String(decoding: data, as: UTF8.self).split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        self.init(startedAt: String(parts[0]), id: String(parts[1]))
    }
}

/// A page of boots and where the next one starts (nil on the last page).
public struct BootPage: Sendable {
    public var boots: [BootRecord]
    public var next: BootCursor?
}
