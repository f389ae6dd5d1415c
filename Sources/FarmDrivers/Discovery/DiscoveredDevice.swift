import FarmCore

/// A device discovery recognised as lab equipment, with the match rule and lab file line that
/// bind it to a board.
public struct DiscoveredDevice: Sendable, Equatable {
    /// What the device is for.
    public enum Kind: String, Sendable, CaseIterable {
        /// A USB serial adapter (or any USB tty): a board's console.
        case serialAdapter = "serial-adapter"
        /// A relay board switching board power.
        case relayBoard = "relay-board"
        /// A power meter (hwmon or IIO) measuring board power.
        case powerMeter = "power-meter"
    }

    /// What the device is for.
    public var kind: Kind
    /// Maker and model, such as `FTDI FT232R` or `TI INA226`.
    public var model: String
    /// The device itself: the tty, hidraw node, USB device, hwmon or IIO device.
    public var device: UdevDevice
    /// Number of relays, for relay boards that say (`USBRelay2` has 2); nil when unknown.
    public var relayChannels: Int?
    /// A caveat worth telling the user, such as a CH340 adapter possibly being a relay board.
    public var note: String?
    /// A rule that matches this device and no other present device of its subsystem.
    public var match: DeviceMatch
    /// The resource line for a lab file, such as
    /// `console: {kind: serial, match: {ID_SERIAL_SHORT: A50285BI, ID_USB_INTERFACE_NUM: "00"}, baud: 115200}`.
    public var labSnippet: String

    public init(
        kind: Kind, model: String, device: UdevDevice, relayChannels: Int? = nil, note: String? = nil, match: DeviceMatch,
        labSnippet: String
    ) {
        self.kind = kind
        self.model = model
        self.device = device
        self.relayChannels = relayChannels
        self.note = note
        self.match = match
        self.labSnippet = labSnippet
    }

    /// The node (`/dev/ttyUSB0`) or sysfs name (`hwmon2`) that names the device now.
    public var name: String { device.displayName }
}
