import Foundation

/// Links between dashboard pages. Every value is percent-encoded, so names with `&`, `/`, `#` or
/// quotes survive the round trip; templates escape the result again for the attribute.
enum WebLinks {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func encode(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    static func path(_ base: String, _ query: [(String, String?)] = []) -> String {
        let parts = query.compactMap { name, value in value.flatMap { $0.isEmpty ? nil : "\(name)=\(encode($0))" } }
        return parts.isEmpty ? base : base + "?" + parts.joined(separator: "&")
    }

    static func branch(tree: String, branch: String) -> String {
        path("/revision", [("tree", tree), ("branch", branch)])
    }

    static func revision(tree: String, branch: String, describe: String) -> String {
        path("/revision", [("tree", tree), ("branch", branch), ("describe", describe)])
    }

    static func boot(_ id: String) -> String { "/boots/" + encode(id) }

    static func board(lab: String, board: String) -> String { path("/board", [("lab", lab), ("board", board)]) }

    static func lab(_ name: String) -> String { "/labs/" + encode(name) }

    static func regressions(tree: String? = nil, branch: String? = nil, describe: String? = nil, kind: String? = nil) -> String {
        path("/regressions", [("tree", tree), ("branch", branch), ("describe", describe), ("kind", kind)])
    }
}
