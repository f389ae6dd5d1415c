extension DeviceMatch {
    /// Decodes a match rule from a lab file's mapping.
    ///
    /// ```yaml
    /// match: {ID_SERIAL_SHORT: A50285BI, ID_USB_INTERFACE_NUM: "00"}
    /// match:                         # whatever is plugged into hub port 1.2
    ///   SUBSYSTEM: tty
    ///   parent: {ID_PATH: pci-0000:00:14.0-usb-0:1.2}
    /// match: {"@ID_PATH": pci-0000:00:14.0-usb-0:1.2}   # the same; "@" must be quoted in YAML
    /// ```
    ///
    /// `@KEY` is shorthand for `parent: {KEY: ...}`; all ancestor keys must hold on one ancestor.
    /// Values are taken as written (`00` stays `00`). Errors name file, line and key.
    public static func decode(_ node: ConfigNode) throws(ConfigError) -> DeviceMatch {
        let map: ConfigMapping
        do throws(ConfigError) {
            map = try node.mapping()
        } catch {
            throw node.error(
                "\(error.message); a match lists udev properties, such as {ID_SERIAL_SHORT: A50285BI} "
                    + "(run 'bootfarm lab discover' to see them)")
        }
        var conditions: [Condition] = []
        var ancestorConditions: [Condition] = []
        for (key, value) in map.values() {
            if key == "parent" {
                let parentMap = try value.mapping()
                let entries = parentMap.values()
                if entries.isEmpty { throw value.error("'parent' needs at least one KEY: value") }
                for (parentKey, parentValue) in entries {
                    if parentKey == "parent" || parentKey.hasPrefix("@") {
                        throw parentValue.error("'parent' holds the keys of one ancestor; '\(parentKey)' cannot be nested in it")
                    }
                    try add(parentKey, parentValue, to: &ancestorConditions)
                }
            } else if key.hasPrefix("@") {
                try add(String(key.dropFirst()), value, to: &ancestorConditions)
            } else {
                try add(key, value, to: &conditions)
            }
        }
        if conditions.isEmpty && ancestorConditions.isEmpty {
            throw node.error("a match needs at least one KEY: value, such as ID_SERIAL_SHORT: A50285BI")
        }
        try map.finish()
        let place = node.line.map { "\(node.file):\($0)" } ?? node.file
        return DeviceMatch(conditions, ancestor: ancestorConditions, location: node.path.isEmpty ? place : "\(place): \(node.path)")
    }

    private static func add(_ key: String, _ node: ConfigNode, to conditions: inout [Condition]) throws(ConfigError) {
        guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
            throw node.error("'\(key)' is not a udev property or sysfs attribute name (letters, digits, '_', '-', '.')")
        }
        let value = try node.nonEmptyString()
        if conditions.contains(where: { $0.key == key }) {
            throw node.error("'\(key)' is given twice for the ancestor (as '@\(key)' and in 'parent')")
        }
        conditions.append(Condition(key, value))
    }
}
