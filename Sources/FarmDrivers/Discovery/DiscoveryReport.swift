/// What one discovery run saw.
public struct DiscoveryReport: Sendable, Equatable {
    /// How the devices were listed.
    public var method: DeviceDiscovery.Method
    /// The sysfs root that was read (`/sys` for libudev).
    public var sysfsRoot: String
    /// Whether udevd was running; when not, `ID_*` properties were derived from sysfs attributes.
    public var udevdRunning: Bool
    /// Every device listed, recognised or not, with its ancestors.
    public var devices: [UdevDevice]
    /// The serial adapters, relay boards and power meters among them, by kind then name.
    public var found: [DiscoveredDevice]

    public init(
        method: DeviceDiscovery.Method, sysfsRoot: String, udevdRunning: Bool, devices: [UdevDevice], found: [DiscoveredDevice]
    ) {
        self.method = method
        self.sysfsRoot = sysfsRoot
        self.udevdRunning = udevdRunning
        self.devices = devices
        self.found = found
    }

    /// The recognised devices of `kind`.
    public func found(_ kind: DiscoveredDevice.Kind) -> [DiscoveredDevice] {
        found.filter { $0.kind == kind }
    }
}
