import FarmCore
import Foundation

/// Finds the USB serial adapters, relay boards and power meters attached to the lab machine.
///
/// Two ways to list devices give the same `UdevDevice` values: libudev (`.udev`), which also
/// returns the properties udevd's rules set when udevd runs, and reading sysfs directly
/// (`.sysfs`), which works where udevd does not run and on a copy of a sysfs tree (test
/// fixtures). Either way the `ID_*` properties udevd would set are filled in where missing
/// (see `UdevDevice.withDerivedProperties()`), so match rules written on one machine work on
/// another.
public struct DeviceDiscovery: Sendable {
    /// How devices are listed.
    public enum Method: String, Sendable, CaseIterable {
        /// libudev enumeration (always of the live `/sys`).
        case udev
        /// Reading `class/`, `bus/` and `devices/` under a sysfs root.
        case sysfs
    }

    /// How devices are listed.
    public var method: Method
    /// The sysfs mount point read by `.sysfs` (default `/sys`); `.udev` always reads `/sys`.
    public var sysfsRoot: String

    public init(method: Method, sysfsRoot: String = "/sys") {
        self.method = method
        self.sysfsRoot = sysfsRoot
    }

    /// libudev when udevd runs (its database then has the rule-set properties), else sysfs.
    public static func automatic() -> DeviceDiscovery {
        DeviceDiscovery(method: udevdIsRunning ? .udev : .sysfs)
    }

    /// Whether udevd runs here: its control socket exists (the test libudev's users apply).
    public static var udevdIsRunning: Bool {
        FileManager.default.fileExists(atPath: "/run/udev/control")
    }

    /// The subsystems listed: serial ports, HID relays, USB devices, hwmon and IIO power meters.
    public static let subsystems = ["tty", "hidraw", "usb", "hwmon", "iio"]

    /// Every device of `subsystems`, with its ancestors and derived properties, in sysfs path order.
    public func devices() throws(DiscoveryError) -> [UdevDevice] {
        let listed: [UdevDevice]
        switch method {
        case .udev: listed = try Self.udevDevices(subsystems: Self.subsystems)
        case .sysfs: listed = try Self.sysfsDevices(root: sysfsRoot, subsystems: Self.subsystems)
        }
        return listed.map { $0.withDerivedProperties() }.sorted { $0.sysPath < $1.sysPath }
    }

    /// Lists the devices and picks out the serial adapters, relay boards and power meters.
    public func discover() throws(DiscoveryError) -> DiscoveryReport {
        let devices = try devices()
        return DiscoveryReport(
            method: method, sysfsRoot: method == .sysfs ? sysfsRoot : "/sys", udevdRunning: Self.udevdIsRunning, devices: devices,
            found: Self.classify(devices))
    }

    /// The sysfs attributes read for a device of `subsystem`, given the names it has (for the
    /// `power*` files that tell a power meter).
    static func attributeNames(subsystem: String?, deviceType: String?, available: () -> [String]) -> [String] {
        switch (subsystem, deviceType) {
        case ("usb", "usb_device"):
            return ["idVendor", "idProduct", "bcdDevice", "manufacturer", "product", "serial", "busnum", "devnum", "devpath", "speed"]
        case ("usb", "usb_interface"):
            return ["bInterfaceNumber", "bInterfaceClass", "bInterfaceSubClass", "bInterfaceProtocol", "interface"]
        case ("hwmon", _):
            return ["name"] + available().filter { isPowerAttribute($0, prefix: "power", suffixes: ["_input", "_average"]) }.sorted()
        case ("iio", _):
            return ["name"] + available().filter { isPowerAttribute($0, prefix: "in_power", suffixes: ["_raw", "_input"]) }.sorted()
        case ("i2c", _), ("platform", _), ("hid", _):
            return ["name"]
        default:
            return []
        }
    }

    /// Whether `name` is `PREFIX<digits>SUFFIX`, such as `power1_input` or `in_power0_raw`.
    static func isPowerAttribute(_ name: String, prefix: String, suffixes: [String]) -> Bool {
        guard name.hasPrefix(prefix), let suffix = suffixes.first(where: name.hasSuffix) else { return false }
        let middle = name.dropFirst(prefix.count).dropLast(suffix.count)
        return !middle.isEmpty && middle.allSatisfy(\.isNumber)
    }
}
