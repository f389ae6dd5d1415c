/// A device match rule that does not pick exactly one device.
public enum DeviceMatchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No device meets the rule. `checked` devices were looked at; `nearest` names the closest
    /// one and what differs, when there was any.
    case noMatch(rule: String, location: String?, checked: Int, nearest: String?)
    /// Several devices meet the rule; `devices` names them.
    case multipleMatches(rule: String, location: String?, devices: [String])

    /// One line: the rule, where it is written, and what to do.
    public var description: String {
        switch self {
        case .noMatch(let rule, let location, let checked, let nearest):
            var text = "\(Self.prefix(location))no device matches \(rule)"
            if checked == 0 {
                text += " (no devices of this kind are present)"
            } else {
                text += " (\(checked) device\(checked == 1 ? "" : "s") checked"
                if let nearest { text += "; nearest: \(nearest)" }
                text += ")"
            }
            return text + "; run 'bootfarm lab discover' to list the devices and their match rules"
        case .multipleMatches(let rule, let location, let devices):
            return "\(Self.prefix(location))\(devices.count) devices match \(rule): \(devices.joined(separator: ", "))"
                + "; add ID_SERIAL_SHORT or ID_PATH to tell them apart"
        }
    }

    private static func prefix(_ location: String?) -> String {
        location.map { "\($0): " } ?? ""
    }
}
