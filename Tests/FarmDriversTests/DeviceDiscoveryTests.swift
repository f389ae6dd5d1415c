import FarmCore
import FarmDrivers
import Foundation
import Testing

/// Discovery of serial adapters, relay boards and power meters from sysfs fixtures and from this
/// machine's own /sys and libudev.
@Suite("Device discovery")
struct DeviceDiscoveryTests {
    /// A copy of the sysfs tree of a machine with a USB hub holding two FTDI adapters (ports 1.1
    /// and 1.2) and a HID relay board (port 1.3), plus an INA226 on an I2C bus.
    static let hubFixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sysfs/hub-two-ftdi-relay").path

    func fixtureReport() throws -> DiscoveryReport {
        try DeviceDiscovery(method: .sysfs, sysfsRoot: Self.hubFixture).discover()
    }

    func found(_ name: String, in report: DiscoveryReport) throws -> DiscoveredDevice {
        try #require(report.found.first { $0.name == name }, "\(name) not found in \(report.found.map(\.name))")
    }

    // MARK: The hub fixture

    @Test func discoveryOfTheHubFixtureFindsTwoAdaptersARelayBoardAndAPowerMeter() throws {
        let report = try fixtureReport()
        #expect(report.method == .sysfs)
        #expect(report.found.map(\.name) == ["/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/hidraw0", "hwmon2"])
        #expect(report.found.map(\.kind) == [.serialAdapter, .serialAdapter, .relayBoard, .powerMeter])
        #expect(report.found.map(\.model) == ["FTDI FT232R", "FTDI FT232R", "USB HID relay board (USBRelay2)", "TI INA226 (hwmon)"])
        // The legacy serial port and the CPU temperature sensor are listed but not lab equipment.
        #expect(report.devices.contains { $0.devNode == "/dev/ttyS0" })
        #expect(report.devices.contains { $0.attributes["name"] == "coretemp" })
    }

    @Test func discoveryGivesTheAdaptersTheirSerialsInterfaceNumbersAndPaths() throws {
        let report = try fixtureReport()
        let first = try found("/dev/ttyUSB0", in: report).device
        let second = try found("/dev/ttyUSB1", in: report).device
        #expect(first.pathID == "pci-0000:00:14.0-usb-0:1.1:1.0")
        #expect(second.pathID == "pci-0000:00:14.0-usb-0:1.2:1.0")
        #expect(first.serialShort == "A50285BI")
        #expect(second.serialShort == "A9GJ2KXL")
        for device in [first, second] {
            #expect(device.subsystem == "tty")
            #expect(device.interfaceNumber == "00")
            #expect(device.vendorID == "0403")
            #expect(device.modelID == "6001")
            #expect(device.properties["ID_VENDOR"] == "FTDI")
            #expect(device.properties["ID_MODEL"] == "FT232R_USB_UART")
            #expect(device.properties["ID_USB_DRIVER"] == "ftdi_sio")
            #expect(device.properties["ID_BUS"] == "usb")
            #expect(device.properties["MAJOR"] == "188")
            #expect(device.driver == nil)
            #expect(device.nearestDriver == "ftdi_sio")
        }
        #expect(first.properties["ID_SERIAL"] == "FTDI_FT232R_USB_UART_A50285BI")
        #expect(first.properties["ID_PATH_TAG"] == "pci-0000_00_14_0-usb-0_1_1_1_0")
        #expect(first.properties["DEVNAME"] == "/dev/ttyUSB0")
        #expect(first.devicePath == "/devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1.1/1-1.1:1.0/ttyUSB0/tty/ttyUSB0")
        #expect(first.properties["DEVPATH"] == first.devicePath)
        #expect(first.sysPath.hasSuffix("/hub-two-ftdi-relay" + first.devicePath))
    }

    @Test func discoveryWalksTheParentChainFromTheTTYToTheHostController() throws {
        let tty = try found("/dev/ttyUSB1", in: try fixtureReport()).device
        #expect(tty.ancestors.map(\.sysName) == ["ttyUSB1", "1-1.2:1.0", "1-1.2", "1-1", "usb1", "0000:00:14.0", "pci0000:00"])
        #expect(tty.ancestors.map(\.subsystem) == ["usb-serial", "usb", "usb", "usb", "usb", "pci", nil])
        #expect(tty.parent?.driver == "ftdi_sio")
        let interface = try #require(tty.ancestor(subsystem: "usb", deviceType: "usb_interface"))
        #expect(interface.attributes["bInterfaceNumber"] == "00")
        #expect(interface.pathID == "pci-0000:00:14.0-usb-0:1.2:1.0")
        let adapter = try #require(tty.ancestor(subsystem: "usb", deviceType: "usb_device"))
        #expect(adapter.sysName == "1-1.2")
        #expect(adapter.attributes["serial"] == "A9GJ2KXL")
        #expect(adapter.attributes["devpath"] == "1.2")
        #expect(adapter.devNode == "/dev/bus/usb/001/004")
        #expect(adapter.pathID == "pci-0000:00:14.0-usb-0:1.2")
        #expect(adapter.serialShort == "A9GJ2KXL")
        #expect(adapter.interfaceNumber == nil)
        let hub = try #require(adapter.parent)
        #expect(hub.pathID == "pci-0000:00:14.0-usb-0:1")
        #expect(hub.properties["ID_VENDOR_ID"] == "05e3")
        #expect(hub.properties["ID_SERIAL_SHORT"] == nil)
        #expect(hub.properties["ID_SERIAL"] == "GenesysLogic_USB2.1_Hub")
        #expect(hub.parent?.pathID == "pci-0000:00:14.0", "a root hub adds no port")
        #expect(tty.usbDevice == adapter)
    }

    @Test func discoveryRecognisesTheHIDRelayBoardByItsProductString() throws {
        let relay = try found("/dev/hidraw0", in: try fixtureReport())
        #expect(relay.relayChannels == 2)
        #expect(relay.device.subsystem == "hidraw")
        #expect(relay.device.pathID == "pci-0000:00:14.0-usb-0:1.3:1.0")
        #expect(relay.device.vendorID == "16c0")
        #expect(relay.device.modelID == "05df")
        #expect(relay.device.serialShort == nil)
        #expect(relay.device.properties["ID_MODEL"] == "USBRelay2")
        #expect(relay.device.nearestDriver == "hid-generic")
        #expect(relay.labSnippet == "power: {kind: usb-hid-relay, match: {ID_PATH: pci-0000:00:14.0-usb-0:1.3:1.0}, channel: 1}")
    }

    @Test func discoveryRecognisesTheINA226AsAPowerMeter() throws {
        let meter = try found("hwmon2", in: try fixtureReport())
        #expect(meter.device.subsystem == "hwmon")
        #expect(meter.device.devNode == nil)
        #expect(meter.device.attributes["name"] == "ina226")
        #expect(meter.device.attributes["power1_input"] == "2090000")
        #expect(meter.device.pathID == "pci-0000:00:15.0-platform-i2c_designware.0")
        #expect(meter.device.nearestDriver == "ina2xx")
        #expect(meter.device.parent?.sysName == "1-0040")
        #expect(meter.labSnippet == "meter: {kind: hwmon, match: {name: ina226, ID_PATH: pci-0000:00:15.0-platform-i2c_designware.0}}")
    }

    @Test func discoverySuggestsSerialNumberRulesForTheAdapters() throws {
        let report = try fixtureReport()
        #expect(
            try found("/dev/ttyUSB0", in: report).labSnippet
                == "console: {kind: serial, match: {ID_SERIAL_SHORT: A50285BI, ID_USB_INTERFACE_NUM: \"00\"}, baud: 115200}")
        #expect(
            try found("/dev/ttyUSB1", in: report).labSnippet
                == "console: {kind: serial, match: {ID_SERIAL_SHORT: A9GJ2KXL, ID_USB_INTERFACE_NUM: \"00\"}, baud: 115200}")
    }

    /// Every suggested line, pasted into a lab file and decoded, picks its own device out of all
    /// listed devices of the same subsystem.
    @Test func discoverySnippetsDecodeToRulesThatPickTheirOwnDevice() throws {
        let report = try fixtureReport()
        for item in report.found {
            let root = try ConfigNode.parse(item.labSnippet + "\n", file: "lab.yaml")
            let resource = try #require(try root.mapping().values().first?.value)
            let rule = try DeviceMatch.decode(try resource.mapping().required("match"))
            #expect(rule == DeviceMatch(item.match.conditions, ancestor: item.match.ancestorConditions, location: rule.location))
            let pool = report.devices.filter { $0.subsystem == item.device.subsystem }
            let picked = try rule.select(from: pool, as: \.matchCandidate)
            #expect(picked.sysPath == item.device.sysPath, "\(item.labSnippet)")
        }
    }

    @Test func discoveryMatchesByHubPortThroughAnAncestor() throws {
        let report = try fixtureReport()
        let ttys = report.devices.filter { $0.subsystem == "tty" }
        let rule = DeviceMatch([:], ancestor: ["ID_PATH": "pci-0000:00:14.0-usb-0:1.2"])
        #expect(try rule.select(from: ttys, as: \.matchCandidate).devNode == "/dev/ttyUSB1")
        let anyPort = DeviceMatch([:], ancestor: ["ID_PATH": "pci-0000:00:14.0-usb-0:1"])
        let error = try #require(throws: DeviceMatchError.self) { try anyPort.select(from: ttys, as: \.matchCandidate) }
        #expect(error == .multipleMatches(rule: anyPort.description, location: nil, devices: ["/dev/ttyUSB0", "/dev/ttyUSB1"]))
    }

    @Test func discoveryOfAMissingSysfsRootFails() throws {
        let discovery = DeviceDiscovery(method: .sysfs, sysfsRoot: "/nonexistent-sysfs-\(getpid())")
        let error = try #require(throws: DiscoveryError.self) { try discovery.discover() }
        #expect(error == .sysfsMissing(root: discovery.sysfsRoot))
    }

    @Test func discoveryOfAnEmptyTreeFindsNothing() throws {
        let tree = try SysfsTree()
        let report = try DeviceDiscovery(method: .sysfs, sysfsRoot: tree.root).discover()
        #expect(report.devices.isEmpty)
        #expect(report.found.isEmpty)
    }

    // MARK: More kinds of equipment

    /// CH340 (no serial), two CP210x clones sharing a serial, an FT2232 with two ports, a Numato
    /// relay module, a HID relay without a hidraw node, another V-USB gadget, and an IIO meter.
    func mixedTree() throws -> SysfsTree {
        let tree = try SysfsTree()
        let usb = "devices/pci0000:00/0000:00:14.0/usb1"
        tree.device("devices/pci0000:00", subsystem: nil)
        tree.device("devices/pci0000:00/0000:00:14.0", subsystem: "pci", driver: "xhci_hcd")
        tree.usbDevice("\(usb)", id: ("1d6b", "0002"), product: "xHCI Host Controller")
        var minor = 0
        func serialPort(_ port: String, interface: String, driver: String, tty: String, glue: Bool = true) {
            let interfacePath = "\(usb)/1-\(port)/1-\(port):1.\(Int(interface) ?? 0)"
            tree.device(
                interfacePath, subsystem: "usb", driver: driver, uevent: ["DEVTYPE=usb_interface"],
                attributes: ["bInterfaceNumber": interface])
            var parent = interfacePath
            if glue {
                parent = "\(interfacePath)/\(tty)"
                tree.device(parent, subsystem: "usb-serial", driver: driver)
            }
            tree.device("\(parent)/tty/\(tty)", subsystem: "tty", uevent: ["MAJOR=188", "MINOR=\(minor)", "DEVNAME=\(tty)"])
            minor += 1
        }
        tree.usbDevice("\(usb)/1-2", id: ("1a86", "7523"), product: "USB Serial")
        serialPort("2", interface: "00", driver: "ch341", tty: "ttyUSB0")
        tree.usbDevice("\(usb)/1-6", id: ("10c4", "ea60"), product: "CP2102 USB to UART Bridge Controller", serial: "0001")
        serialPort("6", interface: "00", driver: "cp210x", tty: "ttyUSB1")
        tree.usbDevice("\(usb)/1-7", id: ("10c4", "ea60"), product: "CP2102 USB to UART Bridge Controller", serial: "0001")
        serialPort("7", interface: "00", driver: "cp210x", tty: "ttyUSB2")
        tree.usbDevice("\(usb)/1-8", id: ("0403", "6010"), product: "Dual RS232-HS", serial: "FT2ABC")
        serialPort("8", interface: "00", driver: "ftdi_sio", tty: "ttyUSB3")
        serialPort("8", interface: "01", driver: "ftdi_sio", tty: "ttyUSB4")
        tree.usbDevice("\(usb)/1-3", id: ("2a19", "0c05"), product: "Numato Lab 8 Channel USB Relay Module", serial: "NL0001")
        serialPort("3", interface: "00", driver: "cdc_acm", tty: "ttyACM0", glue: false)
        tree.usbDevice("\(usb)/1-4", id: ("16c0", "05df"), product: "USBRelay4", devnum: 9)
        tree.device(
            "\(usb)/1-4/1-4:1.0", subsystem: "usb", driver: "usbhid", uevent: ["DEVTYPE=usb_interface"],
            attributes: ["bInterfaceNumber": "00"])
        tree.usbDevice("\(usb)/1-5", id: ("16c0", "05df"), product: "DigiUSB")
        tree.device(
            "\(usb)/1-5/1-5:1.0", subsystem: "usb", driver: "usbhid", uevent: ["DEVTYPE=usb_interface"],
            attributes: ["bInterfaceNumber": "00"])
        tree.device("\(usb)/1-5/1-5:1.0/0003:16C0:05DF.0002", subsystem: "hid", driver: "hid-generic")
        tree.device("\(usb)/1-5/1-5:1.0/0003:16C0:05DF.0002/hidraw/hidraw1", subsystem: "hidraw", uevent: ["DEVNAME=hidraw1"])
        tree.device("devices/platform", subsystem: nil)
        tree.device("devices/platform/fe804000.i2c", subsystem: "platform", driver: "brcmstb-i2c")
        tree.device("devices/platform/fe804000.i2c/i2c-1", subsystem: "i2c", uevent: ["DEVTYPE=i2c_adapter"])
        tree.device("devices/platform/fe804000.i2c/i2c-1/1-0041", subsystem: "i2c", driver: "ina2xx-adc", attributes: ["name": "ina226"])
        tree.device(
            "devices/platform/fe804000.i2c/i2c-1/1-0041/iio:device0", subsystem: "iio",
            uevent: ["DEVTYPE=iio_device", "DEVNAME=iio:device0"],
            attributes: ["name": "ina226", "in_power2_raw": "512", "in_voltage0_raw": "12"])
        return tree
    }

    @Test func discoveryTellsSerialAdaptersRelaysAndMetersApartOnAMixedTree() throws {
        let tree = try mixedTree()
        let report = try DeviceDiscovery(method: .sysfs, sysfsRoot: tree.root).discover()
        let summary = report.found.map { "\($0.kind.rawValue) \($0.name) \($0.model)" }
        #expect(
            summary == [
                "serial-adapter /dev/ttyUSB0 WCH CH340", "serial-adapter /dev/ttyUSB1 Silicon Labs CP210x",
                "serial-adapter /dev/ttyUSB2 Silicon Labs CP210x", "serial-adapter /dev/ttyUSB3 FTDI FT2232",
                "serial-adapter /dev/ttyUSB4 FTDI FT2232",
                "relay-board /dev/bus/usb/001/009 USB HID relay board (USBRelay4)",
                "relay-board /dev/ttyACM0 Numato Lab relay module (Numato Lab 8 Channel USB Relay Module)",
                "power-meter /dev/iio:device0 TI INA226 (IIO)",
            ])
        let snippets = Dictionary(uniqueKeysWithValues: report.found.map { ($0.name, $0.labSnippet) })
        // No serial number: the physical path.
        #expect(snippets["/dev/ttyUSB0"] == "console: {kind: serial, match: {ID_PATH: pci-0000:00:14.0-usb-0:2:1.0}, baud: 115200}")
        // Clones sharing a serial number: the physical path too.
        #expect(snippets["/dev/ttyUSB1"] == "console: {kind: serial, match: {ID_PATH: pci-0000:00:14.0-usb-0:6:1.0}, baud: 115200}")
        #expect(snippets["/dev/ttyUSB2"] == "console: {kind: serial, match: {ID_PATH: pci-0000:00:14.0-usb-0:7:1.0}, baud: 115200}")
        // Two ports of one chip: the serial number and the interface number.
        #expect(
            snippets["/dev/ttyUSB3"]
                == "console: {kind: serial, match: {ID_SERIAL_SHORT: FT2ABC, ID_USB_INTERFACE_NUM: \"00\"}, baud: 115200}")
        #expect(
            snippets["/dev/ttyUSB4"]
                == "console: {kind: serial, match: {ID_SERIAL_SHORT: FT2ABC, ID_USB_INTERFACE_NUM: \"01\"}, baud: 115200}")
        #expect(
            snippets["/dev/ttyACM0"]
                == "power: {kind: numato, match: {ID_SERIAL_SHORT: NL0001, ID_USB_INTERFACE_NUM: \"00\"}, channel: 0}")
        #expect(snippets["/dev/bus/usb/001/009"] == "power: {kind: usb-hid-relay, match: {ID_PATH: pci-0000:00:14.0-usb-0:4}, channel: 1}")
        #expect(snippets["/dev/iio:device0"] == "meter: {kind: iio, match: {name: ina226, ID_PATH: platform-fe804000.i2c}}")

        let ch340 = try found("/dev/ttyUSB0", in: report)
        #expect(ch340.note?.contains("LCUS") == true)
        #expect(ch340.device.serialShort == nil)
        #expect(ch340.device.properties["ID_SERIAL"] == "1a86_USB_Serial")
        #expect(try found("/dev/bus/usb/001/009", in: report).relayChannels == 4)
        #expect(try found("/dev/bus/usb/001/009", in: report).note?.contains("no hidraw node") == true)
        #expect(try found("/dev/ttyACM0", in: report).device.nearestDriver == "cdc_acm")
    }

    @Test func discoveryFallsBackToTheParentDevicePathForMetersSharingABus() throws {
        let tree = try mixedTree()
        let bus = "devices/platform/fe804000.i2c/i2c-1"
        tree.device("\(bus)/1-0044", subsystem: "i2c", driver: "ina2xx-adc", attributes: ["name": "ina226"])
        tree.device(
            "\(bus)/1-0044/iio:device1", subsystem: "iio", uevent: ["DEVTYPE=iio_device", "DEVNAME=iio:device1"],
            attributes: ["name": "ina226", "in_power2_raw": "7"])
        let report = try DeviceDiscovery(method: .sysfs, sysfsRoot: tree.root).discover()
        let meters = report.found(.powerMeter)
        #expect(
            meters.map(\.labSnippet) == [
                "meter: {kind: iio, match: {name: ina226, parent: {DEVPATH: /\(bus)/1-0041}}}",
                "meter: {kind: iio, match: {name: ina226, parent: {DEVPATH: /\(bus)/1-0044}}}",
            ])
    }

    // MARK: Rules udev follows

    @Test func udevSafeStringsLookLikeUdevs() {
        #expect(UdevDevice.udevSafe("  FT232R USB   UART \n") == "FT232R_USB_UART")
        #expect(UdevDevice.udevSafe("Silicon Labs/CP2102 (rev 1)") == "Silicon_Labs_CP2102__rev_1_")
        #expect(UdevDevice.udevSafe("www.dcttech.com") == "www.dcttech.com")
        #expect(UdevDevice.udevSafe("Überhub") == "Überhub")
    }

    @Test func pathIDNeedsAKnownBusAtTheTop() {
        let virtual = UdevDevice(
            subsystem: "tty", sysPath: "/sys/devices/virtual/tty/tty0", devicePath: "/devices/virtual/tty/tty0",
            parent: UdevDevice(subsystem: nil, sysPath: "/sys/devices/virtual", devicePath: "/devices/virtual"))
        #expect(virtual.composedPathID == nil)
        #expect(virtual.withDerivedProperties().properties["ID_PATH"] == nil)
        let acpi = UdevDevice(
            subsystem: "tty", sysPath: "/sys/devices/pnp0/00:00/tty/ttyS0", devicePath: "/devices/pnp0/00:00/tty/ttyS0",
            parent: UdevDevice(subsystem: "pnp", sysPath: "/sys/devices/pnp0/00:00", devicePath: "/devices/pnp0/00:00"))
        #expect(acpi.composedPathID == nil, "pnp is not a bus path_id knows")
    }

    @Test func propertiesUdevSetAreKeptOverDerivedOnes() {
        let device = UdevDevice(
            subsystem: "usb", deviceType: "usb_device", sysPath: "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-3",
            devicePath: "/devices/pci0000:00/0000:00:14.0/usb1/1-3", properties: ["ID_SERIAL_SHORT": "FROM-UDEV"],
            attributes: ["idVendor": "0403", "idProduct": "6001", "serial": "FROM-SYSFS"],
            parent: UdevDevice(
                subsystem: "pci", sysPath: "/sys/devices/pci0000:00/0000:00:14.0", devicePath: "/devices/pci0000:00/0000:00:14.0"))
        let derived = device.withDerivedProperties()
        #expect(derived.serialShort == "FROM-UDEV")
        #expect(derived.pathID == "pci-0000:00:14.0-usb-0:3")
        #expect(derived.parent?.pathID == "pci-0000:00:14.0")
    }

    // MARK: This machine

    @Test func discoveryOfThisMachinesSysfsDoesNotFail() throws {
        let report = try DeviceDiscovery(method: .sysfs).discover()
        for item in report.found {
            #expect(!item.labSnippet.isEmpty)
            #expect(item.device.sysPath.hasPrefix("/sys/devices/"))
        }
        for device in report.devices {
            #expect(device.devicePath.hasPrefix("/devices/"), "\(device.sysPath)")
        }
    }

    @Test func discoveryWithLibudevDoesNotFailAndAgreesWithSysfs() throws {
        let viaUdev = try DeviceDiscovery(method: .udev).devices()
        let viaSysfs = try DeviceDiscovery(method: .sysfs).devices()
        // libudev lists every device of the subsystems; sysfs only those its class and bus
        // folders link, which is the same set on Linux.
        let udevPaths = Set(viaUdev.map(\.sysPath))
        for device in viaSysfs {
            #expect(udevPaths.contains(device.sysPath), "libudev does not list \(device.sysPath)")
        }
        let byPath = Dictionary(viaUdev.map { ($0.sysPath, $0) }, uniquingKeysWith: { first, _ in first })
        for device in viaSysfs {
            guard let other = byPath[device.sysPath] else { continue }
            #expect(other.subsystem == device.subsystem)
            #expect(other.devNode == device.devNode)
            #expect(other.devicePath == device.devicePath)
            #expect(other.ancestors.map(\.sysPath) == device.ancestors.map(\.sysPath))
            for key in ["DEVNAME", "DEVPATH", "SUBSYSTEM", "MAJOR", "MINOR", "ID_PATH", "ID_SERIAL_SHORT"] {
                #expect(other.properties[key] == device.properties[key], "\(key) of \(device.sysPath)")
            }
        }
        _ = DeviceDiscovery.classify(viaUdev)
    }
}

/// A sysfs tree in a temporary folder, built device by device with the links real sysfs has.
final class SysfsTree {
    private let folder: TemporaryFolder
    /// The tree's root, to give `DeviceDiscovery` as its sysfs root.
    var root: String { folder.path }

    init() throws {
        folder = try TemporaryFolder()
        try FileManager.default.createDirectory(atPath: folder.file("devices"), withIntermediateDirectories: true)
    }

    static let classSubsystems: Set<String> = ["tty", "hidraw", "hwmon"]

    /// A device folder at `path` (below the root) with its `uevent`, attributes, `subsystem` and
    /// `driver` links, and its entry in `class/` or `bus/*/devices`.
    func device(
        _ path: String, subsystem: String?, driver: String? = nil, uevent: [String] = [], attributes: [String: String] = [:]
    ) {
        let manager = FileManager.default
        let full = folder.file(path)
        try? manager.createDirectory(atPath: full, withIntermediateDirectories: true)
        manager.createFile(
            atPath: "\(full)/uevent", contents: Data((uevent + (driver.map { ["DRIVER=\($0)"] } ?? [])).map { $0 + "\n" }.joined().utf8))
        for (name, value) in attributes {
            manager.createFile(atPath: "\(full)/\(name)", contents: Data((value + "\n").utf8))
        }
        guard let subsystem else { return }
        let isClass = Self.classSubsystems.contains(subsystem)
        let subsystemFolder = folder.file(isClass ? "class/\(subsystem)" : "bus/\(subsystem)")
        try? manager.createDirectory(atPath: subsystemFolder, withIntermediateDirectories: true)
        try? manager.createSymbolicLink(atPath: "\(full)/subsystem", withDestinationPath: subsystemFolder)
        if let driver {
            let driverFolder = folder.file("bus/\(subsystem)/drivers/\(driver)")
            try? manager.createDirectory(atPath: driverFolder, withIntermediateDirectories: true)
            try? manager.createSymbolicLink(atPath: "\(full)/driver", withDestinationPath: driverFolder)
        }
        let listing = isClass ? subsystemFolder : "\(subsystemFolder)/devices"
        try? manager.createDirectory(atPath: listing, withIntermediateDirectories: true)
        try? manager.createSymbolicLink(atPath: "\(listing)/\((path as NSString).lastPathComponent)", withDestinationPath: full)
    }

    /// A USB device with its IDs and strings; bus 1, address `devnum` (default: from the port).
    func usbDevice(_ path: String, id: (vendor: String, product: String), product: String, serial: String? = nil, devnum: Int? = nil) {
        let name = (path as NSString).lastPathComponent
        let number = devnum ?? (Int(name.split(separator: "-").last ?? "") ?? 1)
        var attributes = ["idVendor": id.vendor, "idProduct": id.product, "product": product, "busnum": "1", "devnum": "\(number)"]
        attributes["serial"] = serial
        device(
            path, subsystem: "usb", driver: "usb", uevent: ["DEVTYPE=usb_device", String(format: "DEVNAME=bus/usb/001/%03d", number)],
            attributes: attributes)
    }
}
