/// How a lab file names a device: by a path, or by udev properties that identify it wherever it
/// is plugged (its serial number, its hub port), never by an enumeration order like /dev/ttyUSB0.
public enum DeviceReference: Sendable, Equatable, CustomStringConvertible {
    /// A fixed path (a /dev/serial/by-id link, a simulated device, a sysfs directory).
    case path(String)
    /// The one device whose udev properties match, found when a job starts.
    case match(DeviceMatch)

    /// The path, when the reference is one.
    public var path: String? {
        if case .path(let path) = self { return path }
        return nil
    }

    public var description: String {
        switch self {
        case .path(let path): path
        case .match(let match): "match \(match)"
        }
    }
}

extension ConfigMapping {
    /// A device given as `pathKey` (a path, relative to the lab file) or as `match` (udev
    /// properties); exactly one of the two.
    func deviceReference(pathKey: String, resolve: (String) -> String) throws(ConfigError) -> DeviceReference {
        let pathNode = optional(pathKey)
        let matchNode = optional("match")
        switch (pathNode, matchNode) {
        case (let pathNode?, nil):
            let path = try pathNode.nonEmptyString()
            return .path(path.hasPrefix("/") ? path : resolve(path))
        case (nil, let matchNode?):
            return .match(try DeviceMatch.decode(matchNode))
        case (_?, let matchNode?):
            throw matchNode.error("'\(pathKey)' and 'match' contradict each other; name the device one way")
        case (nil, nil):
            throw node.error("missing '\(pathKey)' or 'match' (udev properties, as 'bootfarm lab discover' prints them)")
        }
    }
}
