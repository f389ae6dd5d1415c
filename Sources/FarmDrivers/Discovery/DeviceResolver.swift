import FarmCore

/// Turns a lab file's device reference into the path to open when a job starts: a path as it
/// is, a udev match by looking the device up (libudev, or sysfs where udevd is not running).
public enum DeviceResolver {
    /// The device node (ttys, hidraw) or sysfs directory (hwmon, IIO) of `reference`, among
    /// devices of `subsystems`.
    public static func resolve(_ reference: DeviceReference, subsystems: Set<String>, discovery: DeviceDiscovery = .automatic()) throws
        -> String
    {
        switch reference {
        case .path(let path):
            return path
        case .match(let match):
            let devices = try discovery.devices().filter { device in device.subsystem.map(subsystems.contains) ?? false }
            let device = try match.select(from: devices) { $0.matchCandidate }
            if subsystems.isDisjoint(with: ["hwmon", "iio"]), let node = device.devNode { return node }
            return device.sysPath
        }
    }
}
