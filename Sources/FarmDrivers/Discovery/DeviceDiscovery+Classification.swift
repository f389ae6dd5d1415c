import FarmCore
import Foundation

extension DeviceDiscovery {
    /// USB serial adapter chips by `vendor:product` ID.
    public static let serialAdapterModels: [String: String] = [
        "0403:6001": "FTDI FT232R", "0403:6010": "FTDI FT2232", "0403:6011": "FTDI FT4232H", "0403:6014": "FTDI FT232H",
        "0403:6015": "FTDI FT-X", "1a86:7523": "WCH CH340", "1a86:5523": "WCH CH341", "1a86:55d4": "WCH CH9102",
        "10c4:ea60": "Silicon Labs CP210x", "10c4:ea70": "Silicon Labs CP2105", "067b:2303": "Prolific PL2303",
        "067b:23a3": "Prolific PL2303GC",
    ]

    /// USB IDs of CH340/CH341 chips, which LCUS serial relay boards use too.
    static let ambiguousRelayChips: Set<String> = ["1a86:7523", "1a86:5523"]
    /// The V-USB shared ID that HID relay boards (`USBRelay1`...`USBRelay8`) use, among other gadgets.
    static let hidRelayID = "16c0:05df"
    /// Numato Lab's vendor ID; its relay modules are CDC ACM serial ports (`ttyACM`).
    static let numatoVendorID = "2a19"

    /// The serial adapters, relay boards and power meters among `devices`, each with a match
    /// rule unique among the devices of its subsystem, ordered by kind then name.
    public static func classify(_ devices: [UdevDevice]) -> [DiscoveredDevice] {
        var found: [DiscoveredDevice] = []
        let hidrawParents = Set(devices.filter { $0.subsystem == "hidraw" }.compactMap { $0.usbDevice?.sysPath })
        for device in devices {
            guard let recognised = recognise(device, hidrawParents: hidrawParents) else { continue }
            let pool = devices.filter { $0.subsystem == device.subsystem && $0.deviceType == device.deviceType }
            let match = suggestedMatch(for: device, kind: recognised.kind, among: pool)
            found.append(
                DiscoveredDevice(
                    kind: recognised.kind, model: recognised.model, device: device, relayChannels: recognised.channels,
                    note: recognised.note(match), match: match, labSnippet: recognised.snippet(match)))
        }
        let order = DiscoveredDevice.Kind.allCases
        return found.sorted { left, right in
            let leftRank = order.firstIndex(of: left.kind) ?? 0
            let rightRank = order.firstIndex(of: right.kind) ?? 0
            if leftRank != rightRank { return leftRank < rightRank }
            return left.name.compare(right.name, options: .numeric) == .orderedAscending
        }
    }

    private struct Recognised {
        var kind: DiscoveredDevice.Kind
        var model: String
        var channels: Int? = nil
        var note: (DeviceMatch) -> String? = { _ in nil }
        var snippet: (DeviceMatch) -> String
    }

    private static func recognise(_ device: UdevDevice, hidrawParents: Set<String>) -> Recognised? {
        switch device.subsystem {
        case "tty":
            guard let usb = device.usbDevice else { return nil }
            let id = usbID(usb)
            if usb.attributes["idVendor"] == numatoVendorID {
                return Recognised(
                    kind: .relayBoard, model: "Numato Lab relay module (\(usb.attributes["product"] ?? id))",
                    note: { _ in "Numato relay and GPIO modules share one vendor ID; relays are numbered from 0" },
                    snippet: { "power: {kind: numato, match: \($0), channel: 0}" })
            }
            var note: (DeviceMatch) -> String? = { _ in nil }
            if ambiguousRelayChips.contains(id) {
                note = { "LCUS serial relay boards use this chip too; if this is one: power: {kind: lcus, match: \($0), channel: 1}" }
            }
            let model = serialAdapterModels[id] ?? stringsModel(usb) ?? "USB serial (\(device.nearestDriver ?? id))"
            return Recognised(
                kind: .serialAdapter, model: model, note: note, snippet: { "console: {kind: serial, match: \($0), baud: 115200}" })
        case "hidraw":
            guard let usb = device.usbDevice, let channels = hidRelayChannels(usb) else { return nil }
            return hidRelay(usb, channels: channels, note: nil)
        case "usb":
            guard device.deviceType == "usb_device", !hidrawParents.contains(device.sysPath),
                let channels = hidRelayChannels(device)
            else { return nil }
            return hidRelay(device, channels: channels, note: "no hidraw node: is the usbhid driver loaded?")
        case "hwmon":
            let name = device.attributes["name"] ?? ""
            let measuresPower = device.attributes.keys.contains { $0.hasPrefix("power") }
            guard name.hasPrefix("ina") || measuresPower else { return nil }
            return Recognised(
                kind: .powerMeter, model: "\(meterModel(name)) (hwmon)", snippet: { "meter: {kind: hwmon, match: \($0)}" })
        case "iio":
            guard device.attributes.keys.contains(where: { $0.hasPrefix("in_power") }) else { return nil }
            let name = device.attributes["name"] ?? device.sysName
            return Recognised(kind: .powerMeter, model: "\(meterModel(name)) (IIO)", snippet: { "meter: {kind: iio, match: \($0)}" })
        default:
            return nil
        }
    }

    private static func hidRelay(_ usb: UdevDevice, channels: Int, note: String?) -> Recognised {
        Recognised(
            kind: .relayBoard, model: "USB HID relay board (\(usb.attributes["product"] ?? ""))", channels: channels > 0 ? channels : nil,
            note: { _ in note }, snippet: { "power: {kind: usb-hid-relay, match: \($0), channel: 1}" })
    }

    /// The relay count of a HID relay board (`USBRelay2` → 2, 0 when the name has no number); nil
    /// for anything else, including other V-USB gadgets sharing the ID.
    static func hidRelayChannels(_ usb: UdevDevice) -> Int? {
        guard usbID(usb) == hidRelayID, let product = usb.attributes["product"], product.hasPrefix("USBRelay") else { return nil }
        return Int(product.dropFirst("USBRelay".count)) ?? 0
    }

    /// `vvvv:pppp` of a USB device, lowercase.
    static func usbID(_ usb: UdevDevice) -> String {
        "\(usb.attributes["idVendor"] ?? "????"):\(usb.attributes["idProduct"] ?? "????")".lowercased()
    }

    /// `Manufacturer Product` from the USB strings, when the device has them.
    private static func stringsModel(_ usb: UdevDevice) -> String? {
        let parts = [usb.attributes["manufacturer"], usb.attributes["product"]].compactMap { $0 }.filter { !$0.isEmpty }
        return parts.isEmpty ? nil : parts.joined(separator: " ")
    }

    /// `TI INA226` for the Linux `ina2xx` family's names, else the name as the driver gives it.
    private static func meterModel(_ name: String) -> String {
        if name.hasPrefix("ina") { return "TI INA" + name.dropFirst(3) }
        return name.isEmpty ? "power meter" : name
    }

    /// The first of a few rules, from the most to the least portable, that matches `device` and
    /// no other of `pool`: USB serial number (with interface number), then vendor and product
    /// IDs as well, then the physical path (`ID_PATH`), then the sysfs path.
    static func suggestedMatch(for device: UdevDevice, kind: DiscoveredDevice.Kind, among pool: [UdevDevice]) -> DeviceMatch {
        func rule(_ keys: [String]) -> DeviceMatch? {
            var conditions: [DeviceMatch.Condition] = []
            for key in keys {
                guard let value = device[key] else { return nil }
                conditions.append(DeviceMatch.Condition(key, value))
            }
            return DeviceMatch(conditions)
        }
        var rules: [DeviceMatch?] = []
        switch kind {
        case .serialAdapter, .relayBoard:
            let interface = device.interfaceNumber == nil ? [] : ["ID_USB_INTERFACE_NUM"]
            if device.serialShort != nil {
                rules.append(rule(["ID_SERIAL_SHORT"] + interface))
                rules.append(rule(["ID_VENDOR_ID", "ID_MODEL_ID", "ID_SERIAL_SHORT"] + interface))
            }
            rules.append(rule(["ID_PATH"]))
        case .powerMeter:
            rules.append(rule(["name", "ID_PATH"]))
            if let name = device.attributes["name"], let parentPath = device.parent?.properties["DEVPATH"] {
                rules.append(DeviceMatch([DeviceMatch.Condition("name", name)], ancestor: [DeviceMatch.Condition("DEVPATH", parentPath)]))
            }
        }
        let candidates = pool.map(\.matchCandidate)
        for case let rule? in rules where rule.matching(candidates).count == 1 && rule.matches(device.matchCandidate) {
            return rule
        }
        return DeviceMatch([DeviceMatch.Condition("DEVPATH", device.devicePath)])
    }
}
