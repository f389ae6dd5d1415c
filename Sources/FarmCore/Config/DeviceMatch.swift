/// A rule that picks one device (a serial adapter, relay board or power meter) out of those the
/// lab machine has, by udev properties rather than by a kernel name such as `/dev/ttyUSB0` that
/// changes with plug order.
///
/// Every condition on the device must hold. Conditions on an ancestor must all hold on the *same*
/// ancestor (as udev rules' `ATTRS{}`/`KERNELS` keys do), which is how a rule names a hub port:
/// `parent: {ID_PATH: pci-0000:00:14.0-usb-0:1.2}` matches whatever is plugged into port 1.2.
/// A key is looked up among the device's udev properties first, then among its sysfs attributes
/// (`name`, `serial`, ...); values compare as exact strings.
public struct DeviceMatch: Sendable, Equatable, CustomStringConvertible {
    /// One `KEY: value` requirement.
    public struct Condition: Sendable, Equatable, Hashable {
        /// A udev property (`ID_SERIAL_SHORT`) or sysfs attribute (`name`).
        public var key: String
        /// The exact value it must have.
        public var value: String

        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    /// A device as matching sees it: a name for messages, its own facts and its ancestors'.
    public struct Candidate: Sendable, Equatable {
        /// What to call the device in messages, such as `/dev/ttyUSB0`.
        public var name: String
        /// Udev properties merged over sysfs attributes (a property wins on a shared key).
        public var properties: [String: String]
        /// The same for each ancestor, nearest first.
        public var ancestors: [[String: String]]

        public init(name: String, properties: [String: String], ancestors: [[String: String]] = []) {
            self.name = name
            self.properties = properties
            self.ancestors = ancestors
        }
    }

    /// Conditions on the device itself, in the order written.
    public var conditions: [Condition]
    /// Conditions that one ancestor must meet together; empty for none.
    public var ancestorConditions: [Condition]
    /// Where the rule was written (`labs/lab.yaml:12: boards.b1.console.match`), for errors; nil
    /// for a rule built in code.
    public var location: String?

    public init(_ conditions: [Condition], ancestor ancestorConditions: [Condition] = [], location: String? = nil) {
        self.conditions = conditions
        self.ancestorConditions = ancestorConditions
        self.location = location
    }

    /// A rule from key-value pairs, in the order given.
    public init(
        _ conditions: KeyValuePairs<String, String>, ancestor: KeyValuePairs<String, String> = [:], location: String? = nil
    ) {
        self.init(
            conditions.map { Condition($0.key, $0.value) }, ancestor: ancestor.map { Condition($0.key, $0.value) },
            location: location)
    }

    /// Whether `candidate` meets every condition.
    public func matches(_ candidate: Candidate) -> Bool {
        guard Self.holds(conditions, on: candidate.properties) else { return false }
        if ancestorConditions.isEmpty { return true }
        return candidate.ancestors.contains { Self.holds(ancestorConditions, on: $0) }
    }

    /// The candidates that match, in their order.
    public func matching(_ candidates: [Candidate]) -> [Candidate] {
        candidates.filter(matches)
    }

    /// The one device among `devices` that matches, seen through `candidate`.
    ///
    /// - Throws: `DeviceMatchError.noMatch` (naming the closest device and what differs) or
    ///   `.multipleMatches` (naming them all).
    public func select<Device>(from devices: [Device], as candidate: (Device) -> Candidate) throws(DeviceMatchError) -> Device {
        let candidates = devices.map(candidate)
        let indices = candidates.indices.filter { matches(candidates[$0]) }
        switch indices.count {
        case 1:
            return devices[indices[0]]
        case 0:
            throw .noMatch(rule: description, location: location, checked: candidates.count, nearest: nearestMiss(in: candidates))
        default:
            throw .multipleMatches(rule: description, location: location, devices: indices.map { candidates[$0].name })
        }
    }

    /// The one candidate that matches.
    public func select(from candidates: [Candidate]) throws(DeviceMatchError) -> Candidate {
        try select(from: candidates, as: { $0 })
    }

    /// The rule in YAML flow style, as a lab file would write it:
    /// `{ID_SERIAL_SHORT: A50285BI, ID_USB_INTERFACE_NUM: "00", parent: {ID_PATH: ...}}`.
    public var description: String {
        var parts = conditions.map { "\(Self.yamlKey($0.key)): \(Self.yamlScalar($0.value))" }
        if !ancestorConditions.isEmpty {
            let inner = ancestorConditions.map { "\(Self.yamlKey($0.key)): \(Self.yamlScalar($0.value))" }
            parts.append("parent: {\(inner.joined(separator: ", "))}")
        }
        return "{\(parts.joined(separator: ", "))}"
    }

    static func holds(_ conditions: [Condition], on properties: [String: String]) -> Bool {
        conditions.allSatisfy { properties[$0.key] == $0.value }
    }

    /// The candidate failing the fewest conditions, with what differs:
    /// `/dev/ttyUSB1 has ID_SERIAL_SHORT A9GJ2KXL`.
    func nearestMiss(in candidates: [Candidate]) -> String? {
        func misses(_ candidate: Candidate) -> [String] {
            var differences = conditions.compactMap { condition -> String? in
                guard let actual = candidate.properties[condition.key] else { return "no \(condition.key)" }
                return actual == condition.value ? nil : "\(condition.key) \(actual)"
            }
            if !ancestorConditions.isEmpty, !candidate.ancestors.contains(where: { Self.holds(ancestorConditions, on: $0) }) {
                differences.append("no ancestor with \(ancestorConditions.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
            }
            return differences
        }
        let scored = candidates.map { (candidate: $0, misses: misses($0)) }
        guard let best = scored.min(by: { $0.misses.count < $1.misses.count }) else { return nil }
        return "\(best.candidate.name) has \(best.misses.joined(separator: ", "))"
    }

    /// `key`, quoted when YAML would not read it back as the same plain string.
    static func yamlKey(_ key: String) -> String { yamlScalar(key) }

    /// `value` as a YAML flow scalar: plain when it reads back as the same string, else
    /// double-quoted (numbers like `00`, booleans, `null`, indicators, spaces).
    public static func yamlScalar(_ value: String) -> String {
        let plainCharacters = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:+")
        let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"]
        let isPlain =
            !value.isEmpty && value.allSatisfy(plainCharacters.contains)
            && !reserved.contains(value.lowercased())
            && Double(value) == nil && Int(value) == nil
            && !value.hasPrefix("-") && !value.hasPrefix(":") && !value.hasSuffix(":")
            && !value.hasPrefix("0x") && !value.hasPrefix("0o") && !value.contains("::")
            && !value.allSatisfy({ $0.isNumber || $0 == ":" || $0 == "." || $0 == "_" })
        if isPlain { return value }
        var quoted = "\""
        for character in value.unicodeScalars {
            switch character {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case "\n": quoted += "\\n"
            case "\t": quoted += "\\t"
            default:
                if character.value < 0x20 {
                    quoted += "\\x" + (character.value < 0x10 ? "0" : "") + String(character.value, radix: 16)
                } else {
                    quoted.unicodeScalars.append(character)
                }
            }
        }
        return quoted + "\""
    }
}
