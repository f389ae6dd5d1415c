import Foundation
import Yams

/// A YAML node that remembers its file, position and key path, so every decoding error can say
/// where it is. Mappings track which keys were read; `finish()` rejects the rest as unknown.
public struct ConfigNode {
    let node: Node
    /// The file the node came from, for error messages.
    public let file: String
    /// Dotted key path from the document root.
    public let path: String

    /// Parses `text` (the contents of `file`) into its root node.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigNode {
        var text = text
        var tagged = 0
        while true {
            do {
                guard let node = try Yams.compose(yaml: text) else {
                    throw ConfigError(file: file, line: 1, message: "the file is empty; expected a YAML mapping")
                }
                return ConfigNode(node: node, file: file, path: "")
            } catch let error as ConfigError {
                throw error
            } catch YamlError.duplicatedKeysInMapping(let keys, let context) {
                // Yams rejects a duplicate key itself, naming only its first occurrence and no key
                // path. A local tag on that occurrence makes the keys differ to Yams (it compares
                // tags) but not to `mapping()`, which then reports the duplicate with line and path.
                guard tagged < 100, let retagged = Self.tagging(text, at: context.mark, number: tagged) else {
                    throw ConfigError(
                        file: file, line: context.mark.line, column: context.mark.column, key: keys.first ?? "",
                        message: "duplicate key")
                }
                text = retagged
                tagged += 1
            } catch let error as YamlError {
                throw Self.configError(error, file: file)
            } catch {
                throw ConfigError(file: file, message: "cannot parse YAML: \(error)")
            }
        }
    }

    /// `text` with the tag `!duplicate-NUMBER` put before the node that starts at `mark`; nil when
    /// no node can take a tag there.
    static func tagging(_ text: String, at mark: Mark, number: Int) -> String? {
        guard mark.line >= 1, mark.column >= 1 else { return nil }
        var scalars = Array(text.unicodeScalars)
        var offset = 0
        for _ in 1..<mark.line {
            guard let newline = scalars[offset...].firstIndex(of: "\n") else { return nil }
            offset = newline + 1
        }
        offset += mark.column - 1
        guard offset < scalars.count, !" \t\r\n*".unicodeScalars.contains(scalars[offset]) else { return nil }
        scalars.insert(contentsOf: "!duplicate-\(number) ".unicodeScalars, at: offset)
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// Reads and parses a YAML file.
    public static func load(_ path: String) throws(ConfigError) -> ConfigNode {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, message: "cannot read the file (missing or unreadable)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, message: "the file is not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    static func configError(_ error: YamlError, file: String) -> ConfigError {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let prefix = context.map { "\($0.text) " } ?? ""
            return ConfigError(file: file, line: mark.line, column: mark.column, message: "YAML syntax: \(prefix)\(problem)")
        default:
            return ConfigError(file: file, message: "YAML syntax: \(error)")
        }
    }

    /// 1-based line of this node.
    public var line: Int? { node.mark?.line }

    /// An error located at this node.
    public func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line, column: node.mark?.column, key: path, message: message)
    }

    func child(_ node: Node, key: String) -> ConfigNode {
        ConfigNode(node: node, file: file, path: path.isEmpty ? key : "\(path).\(key)")
    }

    private var kindName: String {
        switch node {
        case .scalar(let scalar): scalar.string.isEmpty ? "an empty value" : "the scalar '\(scalar.string)'"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    // MARK: Scalars

    /// The node as a string.
    public func string() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a string, found \(kindName)") }
        return scalar.string
    }

    /// The node as a non-empty string.
    public func nonEmptyString() throws(ConfigError) -> String {
        let value = try string()
        guard !value.isEmpty else { throw error("expected a non-empty string") }
        return value
    }

    /// The node as an integer; accepts decimal and `0x` hexadecimal.
    public func integer() throws(ConfigError) -> Int {
        guard case .scalar(let scalar) = node else { throw error("expected an integer, found \(kindName)") }
        let text = scalar.string.replacingOccurrences(of: "_", with: "")
        let value: Int?
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            value = Int(text.dropFirst(2), radix: 16)
        } else {
            value = Int(text)
        }
        guard let value else { throw error("expected an integer, found '\(scalar.string)'") }
        return value
    }

    /// The node as a number.
    public func number() throws(ConfigError) -> Double {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string), value.isFinite else {
            throw error("expected a number, found \(kindName)")
        }
        return value
    }

    /// The node as a boolean (`true`/`false`, `yes`/`no`, `on`/`off`).
    public func boolean() throws(ConfigError) -> Bool {
        guard case .scalar(let scalar) = node else { throw error("expected true or false, found \(kindName)") }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("expected true or false, found '\(scalar.string)'")
        }
    }

    /// The node as one of an enumeration's raw values.
    public func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type) throws(ConfigError) -> T
    where T.RawValue == String {
        let text = try string()
        guard let value = T(rawValue: text) else {
            let allowed = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw error("unknown value '\(text)'; expected one of: \(allowed)")
        }
        return value
    }

    /// The node as a list of strings (a single string is taken as a one-item list).
    public func strings() throws(ConfigError) -> [String] {
        if case .scalar = node { return [try string()] }
        return try list().map { item throws(ConfigError) in try item.string() }
    }

    // MARK: Collections

    /// The items of a list.
    public func list() throws(ConfigError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else { throw error("expected a list, found \(kindName)") }
        return sequence.enumerated().map { child($0.element, key: "\($0.offset)") }
    }

    /// The node as a mapping whose keys are checked.
    public func mapping() throws(ConfigError) -> ConfigMapping {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping, found \(kindName)") }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        var seen: Set<String> = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                throw ConfigNode(node: keyNode, file: file, path: path).error("keys must be plain strings")
            }
            guard seen.insert(scalar.string).inserted else {
                throw ConfigNode(node: keyNode, file: file, path: path.isEmpty ? scalar.string : "\(path).\(scalar.string)")
                    .error("duplicate key")
            }
            entries.append((scalar.string, keyNode, value))
        }
        return ConfigMapping(owner: self, entries: entries)
    }
}

/// A YAML mapping being decoded. Reading a key marks it used; `finish()` reports the first key
/// that was never read as unknown, with the keys that are allowed.
public final class ConfigMapping {
    let owner: ConfigNode
    let entries: [(key: String, keyNode: Node, value: Node)]
    private var used: Set<String> = []
    private var allowed: [String] = []

    init(owner: ConfigNode, entries: [(key: String, keyNode: Node, value: Node)]) {
        self.owner = owner
        self.entries = entries
    }

    /// The mapping's own node, for errors about the mapping as a whole.
    public var node: ConfigNode { owner }

    /// All keys in file order.
    public var keys: [String] { entries.map(\.key) }

    /// The value of `key`, or nil when absent.
    public func optional(_ key: String) -> ConfigNode? {
        allowed.append(key)
        guard let entry = entries.first(where: { $0.key == key }) else { return nil }
        used.insert(key)
        if case .scalar(let scalar) = entry.value, scalar.tag == Tag(.null) || scalar.string == "~" {
            return nil
        }
        return owner.child(entry.value, key: key)
    }

    /// The value of `key`; a missing key is an error naming it.
    public func required(_ key: String) throws(ConfigError) -> ConfigNode {
        guard let value = optional(key) else {
            throw owner.error("missing required key '\(key)'")
        }
        return value
    }

    /// Every entry as a node, in file order, marking all keys used.
    public func values() -> [(key: String, value: ConfigNode)] {
        entries.map { entry in
            used.insert(entry.key)
            return (entry.key, owner.child(entry.value, key: entry.key))
        }
    }

    /// Fails on the first key that was never read.
    public func finish() throws(ConfigError) {
        for entry in entries where !used.contains(entry.key) {
            let keyNode = ConfigNode(
                node: entry.keyNode, file: owner.file, path: owner.path.isEmpty ? entry.key : "\(owner.path).\(entry.key)")
            let expected = allowed.isEmpty ? "" : "; expected one of: \(Array(Set(allowed)).sorted().joined(separator: ", "))"
            throw keyNode.error("unknown key '\(entry.key)'\(expected)")
        }
    }
}
