import FarmCore

/// A device in the kernel's device tree as udev describes it: its subsystem, where it is in
/// sysfs, its node in `/dev`, its udev properties, a few sysfs attributes, and the devices above
/// it (for a `ttyUSB` console: the usb-serial port, the USB interface, the USB device, the hubs,
/// the host controller).
///
/// Properties hold what udev reports plus, where udevd has not set them, the `ID_*` properties
/// its `path_id` and `usb_id` builtins would have set, computed from the same sysfs attributes.
public struct UdevDevice: Sendable, Equatable {
    /// Kernel subsystem: `tty`, `hidraw`, `usb`, `hwmon`, `iio`, `pci`, ...; nil for a device
    /// without one (such as `pci0000:00`).
    public var subsystem: String?
    /// Device type within the subsystem (`usb_device`, `usb_interface`), when the kernel sets one.
    public var deviceType: String?
    /// Absolute sysfs path, such as `/sys/devices/pci0000:00/0000:00:14.0/usb1/1-1/...`.
    public var sysPath: String
    /// The sysfs path below the sysfs mount (udev's `DEVPATH`), such as `/devices/pci0000:00/...`.
    public var devicePath: String
    /// The last component of the sysfs path: `ttyUSB0`, `1-1.2:1.0`, `hwmon2`.
    public var sysName: String
    /// The device node, such as `/dev/ttyUSB0`; nil for devices without one.
    public var devNode: String?
    /// The bound kernel driver (`ftdi_sio`, `usbhid`), nil when none is bound to this device.
    public var driver: String?
    /// Udev properties: `ID_PATH`, `ID_SERIAL_SHORT`, `ID_VENDOR_ID`, `ID_MODEL_ID`,
    /// `ID_USB_INTERFACE_NUM`, `ID_VENDOR`, `ID_MODEL`, `DRIVER`, `DEVNAME`, `SUBSYSTEM`, ...
    public var properties: [String: String]
    /// The sysfs attributes discovery reads (`idVendor`, `serial`, `bInterfaceNumber`, `name`,
    /// ...), with trailing newlines removed.
    public var attributes: [String: String]
    /// The parent device, held in an array so the type can nest itself.
    var parentStorage: [UdevDevice]

    public init(
        subsystem: String?, deviceType: String? = nil, sysPath: String, devicePath: String, devNode: String? = nil,
        driver: String? = nil, properties: [String: String] = [:], attributes: [String: String] = [:], parent: UdevDevice? = nil
    ) {
        self.subsystem = subsystem
        self.deviceType = deviceType
        self.sysPath = sysPath
        self.devicePath = devicePath
        self.sysName = sysPath.split(separator: "/").last.map(String.init) ?? sysPath
        self.devNode = devNode
        self.driver = driver
        self.properties = properties
        self.attributes = attributes
        self.parentStorage = parent.map { [$0] } ?? []
    }

    // MARK: Parent chain

    /// The device directly above this one in sysfs; nil at the top.
    public var parent: UdevDevice? {
        get { parentStorage.first }
        set { parentStorage = newValue.map { [$0] } ?? [] }
    }

    /// Every device above this one, nearest first.
    public var ancestors: [UdevDevice] {
        var chain: [UdevDevice] = []
        var next = parent
        while let device = next {
            chain.append(device)
            next = device.parent
        }
        return chain
    }

    /// The nearest ancestor in `subsystem` (and of `deviceType`, when given), as libudev's
    /// `udev_device_get_parent_with_subsystem_devtype` finds it; the device itself is not considered.
    public func ancestor(subsystem: String, deviceType: String? = nil) -> UdevDevice? {
        ancestors.first { $0.subsystem == subsystem && (deviceType == nil || $0.deviceType == deviceType) }
    }

    /// This device if it is in `subsystem` (of `deviceType`), else the nearest such ancestor.
    public func selfOrAncestor(subsystem: String, deviceType: String? = nil) -> UdevDevice? {
        if self.subsystem == subsystem && (deviceType == nil || self.deviceType == deviceType) { return self }
        return ancestor(subsystem: subsystem, deviceType: deviceType)
    }

    /// The USB device (`usb_device`) this device belongs to, itself included.
    public var usbDevice: UdevDevice? { selfOrAncestor(subsystem: "usb", deviceType: "usb_device") }

    /// The USB interface (`usb_interface`) this device hangs from, itself included.
    public var usbInterface: UdevDevice? { selfOrAncestor(subsystem: "usb", deviceType: "usb_interface") }

    /// The driver of this device or of the nearest ancestor that has one: for a `ttyUSB` tty
    /// (which has none itself) the usb-serial driver, such as `ftdi_sio`.
    public var nearestDriver: String? {
        driver ?? ancestors.lazy.compactMap(\.driver).first
    }

    // MARK: Properties

    /// The udev property `key`, else the sysfs attribute `key`.
    public subscript(key: String) -> String? {
        properties[key] ?? attributes[key]
    }

    /// `ID_PATH`: the physical path, such as `pci-0000:00:14.0-usb-0:1.2:1.0`.
    public var pathID: String? { properties["ID_PATH"] }
    /// `ID_SERIAL_SHORT`: the USB serial number, such as `A50285BI`.
    public var serialShort: String? { properties["ID_SERIAL_SHORT"] }
    /// `ID_VENDOR_ID`: four lowercase hex digits, such as `0403`.
    public var vendorID: String? { properties["ID_VENDOR_ID"] }
    /// `ID_MODEL_ID`: four lowercase hex digits, such as `6001`.
    public var modelID: String? { properties["ID_MODEL_ID"] }
    /// `ID_USB_INTERFACE_NUM`: two hex digits, such as `00` (the second port of an FT2232 is `01`).
    public var interfaceNumber: String? { properties["ID_USB_INTERFACE_NUM"] }

    /// What to call the device: its node (`/dev/ttyUSB0`), else its sysfs name (`hwmon2`).
    public var displayName: String { devNode ?? sysName }

    /// The device as match rules see it: properties over attributes, for it and each ancestor.
    public var matchCandidate: DeviceMatch.Candidate {
        DeviceMatch.Candidate(name: displayName, properties: facts, ancestors: ancestors.map(\.facts))
    }

    private var facts: [String: String] {
        attributes.merging(properties) { _, property in property }
    }
}
