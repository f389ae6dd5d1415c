import Foundation

/// Links between dashboard pages. Every value is percent-encoded, so names with `&`, `/`, `#` or
/// quotes survive the round trip; templates escape the result again for the attribute.
enum WebLinks {
    /// `value` with every byte but the unreserved ones (RFC 3986: letters, digits, `-._~`) as `%XX`.
    static func encode(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                bytes.append(byte)
            default:
                bytes += [UInt8(ascii: "%"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            }
        }
        return String(decoding: bytes, as: UTF8.self)
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
