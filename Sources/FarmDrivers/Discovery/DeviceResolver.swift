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

extension DeviceResolver {
    /// The USB bus number and device address of the HID relay board `match` names. The rule
    /// may describe the board's USB device or its hidraw node, as `bootfarm lab discover` prints
    /// it; a board seen both ways counts once.
    public static func usbAddress(ofRelay match: DeviceMatch, discovery: DeviceDiscovery = .automatic()) throws -> HIDRelayAddress {
        let devices = try discovery.devices().filter { device in
            device.subsystem == "hidraw" || (device.subsystem == "usb" && device.deviceType == "usb_device")
        }
        var seen = Set<String>()
        let boards = devices.filter { match.matches($0.matchCandidate) }.compactMap(\.usbDevice).filter { seen.insert($0.sysPath).inserted }
        guard boards.count == 1, let board = boards.first else {
            // None or several: the rule's own error names the nearest device or all of them.
            let device = try match.select(from: devices) { $0.matchCandidate }
            throw PowerError.unexpectedAnswer(what: "USB relay board \(match)", answer: "\(device.sysPath) is not on a USB bus")
        }
        guard let bus = board.attributes["busnum"].flatMap({ Int($0) }), let address = board.attributes["devnum"].flatMap({ Int($0) })
        else {
            throw PowerError.unexpectedAnswer(
                what: "USB relay board \(match)", answer: "\(board.sysPath) has no busnum and devnum attributes")
        }
        return .usb(bus: bus, address: address)
    }
}
