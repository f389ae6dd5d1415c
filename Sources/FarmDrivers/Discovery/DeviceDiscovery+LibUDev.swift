import CLibUDev
import Foundation

extension DeviceDiscovery {
    /// Devices of `subsystems` listed by libudev, with their parents, properties and the sysfs
    /// attributes discovery reads.
    ///
    /// All libudev objects live and die inside this call: libudev is not thread-safe, and
    /// parents returned by `udev_device_get_parent` belong to their child.
    static func udevDevices(subsystems: [String]) throws(DiscoveryError) -> [UdevDevice] {
        guard let udev = udev_new() else { throw .udevFailed(step: "udev_new", errorNumber: errno) }
        defer { udev_unref(udev) }
        guard let enumerate = udev_enumerate_new(udev) else {
            throw .udevFailed(step: "udev_enumerate_new", errorNumber: errno)
        }
        defer { udev_enumerate_unref(enumerate) }
        for subsystem in subsystems {
            let status = udev_enumerate_add_match_subsystem(enumerate, subsystem)
            if status < 0 { throw .udevFailed(step: "udev_enumerate_add_match_subsystem(\(subsystem))", errorNumber: -status) }
        }
        let status = udev_enumerate_scan_devices(enumerate)
        if status < 0 { throw .udevFailed(step: "udev_enumerate_scan_devices", errorNumber: -status) }

        var paths: [String] = []
        var entry = udev_enumerate_get_list_entry(enumerate)
        while let current = entry {
            if let name = udev_list_entry_get_name(current) { paths.append(String(cString: name)) }
            entry = udev_list_entry_get_next(current)
        }
        var cache: [String: UdevDevice] = [:]
        var devices: [UdevDevice] = []
        for path in paths {
            // A device can go away between the scan and this call (unplugged); skip it.
            guard let device = udev_device_new_from_syspath(udev, path) else { continue }
            defer { udev_device_unref(device) }
            devices.append(udevDevice(device, cache: &cache))
        }
        return devices
    }

    /// The value of a libudev `device`, with its parents (shared through `cache`).
    private static func udevDevice(_ device: OpaquePointer, cache: inout [String: UdevDevice]) -> UdevDevice {
        let sysPath = string(udev_device_get_syspath(device)) ?? ""
        if let cached = cache[sysPath] { return cached }
        let subsystem = string(udev_device_get_subsystem(device))
        let deviceType = string(udev_device_get_devtype(device))

        var properties: [String: String] = [:]
        var entry = udev_device_get_properties_list_entry(device)
        while let current = entry {
            if let name = string(udev_list_entry_get_name(current)) {
                properties[name] = string(udev_list_entry_get_value(current)) ?? ""
            }
            entry = udev_list_entry_get_next(current)
        }

        let names = attributeNames(subsystem: subsystem, deviceType: deviceType) {
            var available: [String] = []
            var entry = udev_device_get_sysattr_list_entry(device)
            while let current = entry {
                if let name = string(udev_list_entry_get_name(current)) { available.append(name) }
                entry = udev_list_entry_get_next(current)
            }
            return available
        }
        var attributes: [String: String] = [:]
        for name in names {
            guard var value = string(udev_device_get_sysattr_value(device, name)) else { continue }
            while value.hasSuffix("\n") { value.removeLast() }
            attributes[name] = value
        }

        let parent = udev_device_get_parent(device).map { udevDevice($0, cache: &cache) }
        let result = UdevDevice(
            subsystem: subsystem, deviceType: deviceType, sysPath: sysPath,
            devicePath: string(udev_device_get_devpath(device)) ?? properties["DEVPATH"] ?? "",
            devNode: string(udev_device_get_devnode(device)), driver: string(udev_device_get_driver(device)), properties: properties,
            attributes: attributes, parent: parent)
        cache[sysPath] = result
        return result
    }

    private static func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
