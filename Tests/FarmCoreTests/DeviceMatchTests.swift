import FarmCore
import Foundation
import Testing

/// Device match rules: picking one device by serial, path or hub port; errors for none or
/// several; decoding from lab files with positions.
@Suite("Device match rules")
struct DeviceMatchTests {
    static let hubPort1 = "pci-0000:00:14.0-usb-0:1.1"
    static let hubPort2 = "pci-0000:00:14.0-usb-0:1.2"

    /// A tty as discovery reports it for an FTDI adapter in `port` of a hub.
    static func adapter(_ node: String, serial: String, port: String, interface: String = "00") -> DeviceMatch.Candidate {
        let path = "pci-0000:00:14.0-usb-0:\(port)"
        let usbFacts = ["ID_VENDOR_ID": "0403", "ID_MODEL_ID": "6001", "ID_SERIAL_SHORT": serial]
        return DeviceMatch.Candidate(
            name: node,
            properties: usbFacts.merging(
                [
                    "SUBSYSTEM": "tty", "DEVNAME": node, "ID_PATH": "\(path):1.\(interface == "00" ? "0" : "1")",
                    "ID_USB_INTERFACE_NUM": interface,
                ]
            ) { $1 },
            ancestors: [
                ["SUBSYSTEM": "usb-serial", "DRIVER": "ftdi_sio"],
                usbFacts.merging(["SUBSYSTEM": "usb", "DEVTYPE": "usb_interface", "ID_PATH": "\(path):1.0", "bInterfaceNumber": interface])
                {
                    $1
                },
                usbFacts.merging(["SUBSYSTEM": "usb", "DEVTYPE": "usb_device", "ID_PATH": path, "serial": serial]) { $1 },
                ["SUBSYSTEM": "usb", "DEVTYPE": "usb_device", "ID_PATH": "pci-0000:00:14.0-usb-0:1", "ID_VENDOR_ID": "05e3"],
                ["SUBSYSTEM": "pci", "ID_PATH": "pci-0000:00:14.0"],
            ])
    }

    static let devices = [
        adapter("/dev/ttyUSB0", serial: "A50285BI", port: "1.1"),
        adapter("/dev/ttyUSB1", serial: "A9GJ2KXL", port: "1.2"),
        DeviceMatch.Candidate(name: "hwmon2", properties: ["SUBSYSTEM": "hwmon", "name": "ina226"]),
    ]

    // MARK: Matching

    @Test func matchBySerialAndInterfacePicksTheOneAdapter() throws {
        let rule = DeviceMatch(["ID_SERIAL_SHORT": "A9GJ2KXL", "ID_USB_INTERFACE_NUM": "00"])
        #expect(try rule.select(from: Self.devices).name == "/dev/ttyUSB1")
    }

    @Test func matchByPathPicksTheAdapterInThatPort() throws {
        let rule = DeviceMatch(["ID_PATH": "pci-0000:00:14.0-usb-0:1.1:1.0"])
        #expect(try rule.select(from: Self.devices).name == "/dev/ttyUSB0")
    }

    @Test func matchByAnAncestorPicksWhateverIsInTheHubPort() throws {
        let rule = DeviceMatch(["SUBSYSTEM": "tty"], ancestor: ["ID_PATH": Self.hubPort2])
        #expect(try rule.select(from: Self.devices).name == "/dev/ttyUSB1")
        let anyDevice = DeviceMatch([:], ancestor: ["ID_PATH": Self.hubPort1])
        #expect(try anyDevice.select(from: Self.devices).name == "/dev/ttyUSB0")
    }

    @Test func ancestorConditionsMustAllHoldOnTheSameAncestor() {
        // The hub port's USB device has both; no single ancestor has an interface type and the port path.
        let sameDevice = DeviceMatch([:], ancestor: ["DEVTYPE": "usb_device", "ID_PATH": Self.hubPort2])
        #expect(sameDevice.matching(Self.devices).map(\.name) == ["/dev/ttyUSB1"])
        let split = DeviceMatch([:], ancestor: ["DEVTYPE": "usb_interface", "ID_PATH": Self.hubPort2])
        #expect(split.matching(Self.devices).isEmpty)
    }

    @Test func sysfsAttributesMatchLikeProperties() throws {
        #expect(try DeviceMatch(["name": "ina226"]).select(from: Self.devices).name == "hwmon2")
    }

    @Test func selectReturnsTheCallersOwnDeviceValue() throws {
        let nodes = ["/dev/ttyUSB0", "/dev/ttyUSB1"]
        let picked = try DeviceMatch(["ID_SERIAL_SHORT": "A50285BI"]).select(from: nodes) { node in
            Self.devices.first { $0.name == node } ?? DeviceMatch.Candidate(name: node, properties: [:])
        }
        #expect(picked == "/dev/ttyUSB0")
    }

    // MARK: Errors

    @Test func noMatchNamesTheRuleItsPlaceAndTheNearestDevice() throws {
        let rule = DeviceMatch(
            ["ID_SERIAL_SHORT": "A9GJ2KXX", "ID_USB_INTERFACE_NUM": "00"], location: "labs/lab.yaml:12: boards.b1.console.match")
        let error = try #require(throws: DeviceMatchError.self) { try rule.select(from: Self.devices) }
        guard case .noMatch(_, _, let checked, let nearest) = error else {
            Issue.record("expected noMatch, got \(error)")
            return
        }
        #expect(checked == 3)
        #expect(nearest == "/dev/ttyUSB0 has ID_SERIAL_SHORT A50285BI")
        #expect(
            error.description.hasPrefix(
                "labs/lab.yaml:12: boards.b1.console.match: no device matches {ID_SERIAL_SHORT: A9GJ2KXX, ID_USB_INTERFACE_NUM: \"00\"}"))
        #expect(error.description.contains("3 devices checked"))
        #expect(error.description.contains("bootfarm lab discover"))
    }

    @Test func noMatchOfAnAncestorRuleSaysNoAncestorHasIt() throws {
        let rule = DeviceMatch(["SUBSYSTEM": "tty"], ancestor: ["ID_PATH": "pci-0000:00:14.0-usb-0:1.4"])
        let error = try #require(throws: DeviceMatchError.self) { try rule.select(from: Self.devices) }
        #expect(error.description.contains("no ancestor with ID_PATH pci-0000:00:14.0-usb-0:1.4"), "\(error)")
        #expect(error.description.contains("parent: {ID_PATH: pci-0000:00:14.0-usb-0:1.4}"), "\(error)")
    }

    @Test func noDevicesAtAllIsSaidPlainly() throws {
        let error = try #require(throws: DeviceMatchError.self) { try DeviceMatch(["ID_PATH": "x"]).select(from: []) }
        #expect(error == .noMatch(rule: "{ID_PATH: x}", location: nil, checked: 0, nearest: nil))
        #expect(error.description.contains("no devices of this kind are present"))
    }

    @Test func multipleMatchesNameEveryDevice() throws {
        let rule = DeviceMatch(["ID_VENDOR_ID": "0403", "ID_MODEL_ID": "6001"], location: "lab.yaml:3: boards.b1.console.match")
        let error = try #require(throws: DeviceMatchError.self) { try rule.select(from: Self.devices) }
        #expect(error == .multipleMatches(rule: rule.description, location: rule.location, devices: ["/dev/ttyUSB0", "/dev/ttyUSB1"]))
        #expect(
            error.description
                == "lab.yaml:3: boards.b1.console.match: 2 devices match {ID_VENDOR_ID: \"0403\", ID_MODEL_ID: \"6001\"}: "
                + "/dev/ttyUSB0, /dev/ttyUSB1; add ID_SERIAL_SHORT or ID_PATH to tell them apart")
    }

    // MARK: YAML

    func decode(_ yaml: String, key: String = "match") throws(ConfigError) -> DeviceMatch {
        let root = try ConfigNode.parse(yaml, file: "lab.yaml")
        let map = try root.mapping()
        return try DeviceMatch.decode(try map.required(key))
    }

    @Test func decodesAFlowMappingKeepingValuesAsWritten() throws {
        let rule = try decode("match: {ID_SERIAL_SHORT: A50285BI, ID_USB_INTERFACE_NUM: 00, ID_VENDOR_ID: 0403}\n")
        #expect(
            rule.conditions == [.init("ID_SERIAL_SHORT", "A50285BI"), .init("ID_USB_INTERFACE_NUM", "00"), .init("ID_VENDOR_ID", "0403")])
        #expect(rule.ancestorConditions.isEmpty)
        #expect(rule.location == "lab.yaml:1: match")
    }

    @Test func decodesAParentMappingAndTheAtShorthandAlike() throws {
        let nested = try decode("match:\n  SUBSYSTEM: tty\n  parent:\n    ID_PATH: \(Self.hubPort2)\n")
        let shorthand = try decode("match: {SUBSYSTEM: tty, \"@ID_PATH\": \(Self.hubPort2)}\n")
        #expect(nested.conditions == [.init("SUBSYSTEM", "tty")])
        #expect(nested.ancestorConditions == [.init("ID_PATH", Self.hubPort2)])
        #expect(shorthand.conditions == nested.conditions)
        #expect(shorthand.ancestorConditions == nested.ancestorConditions)
        #expect(try shorthand.select(from: Self.devices).name == "/dev/ttyUSB1")
    }

    @Test func blockStyleMatchUnderAResourceDecodesWithItsPosition() throws {
        let root = try ConfigNode.parse(
            """
            boards:
              b1:
                console:
                  kind: serial
                  match:
                    ID_SERIAL_SHORT: A50285BI
                    ID_USB_INTERFACE_NUM: "00"
            """, file: "labs/lab.yaml")
        let console = try root.mapping().required("boards").mapping().required("b1").mapping().required("console").mapping()
        let rule = try DeviceMatch.decode(try console.required("match"))
        #expect(rule.location == "labs/lab.yaml:6: boards.b1.console.match")
        #expect(try rule.select(from: Self.devices).name == "/dev/ttyUSB0")
    }

    struct BadMatch: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var line: Int
        var key: String
        var words: String
        var testDescription: String { name }
    }

    static let badMatches: [BadMatch] = [
        BadMatch(
            name: "a device path instead of a mapping", yaml: "match: /dev/ttyUSB0\n", line: 1, key: "match",
            words: "a match lists udev properties"),
        BadMatch(name: "empty mapping", yaml: "match: {}\n", line: 1, key: "match", words: "at least one KEY: value"),
        BadMatch(
            name: "list value", yaml: "match:\n  ID_SERIAL_SHORT: [a, b]\n", line: 2, key: "match.ID_SERIAL_SHORT",
            words: "expected a string"),
        BadMatch(name: "empty value", yaml: "match:\n  ID_PATH: \"\"\n", line: 2, key: "match.ID_PATH", words: "non-empty"),
        BadMatch(name: "empty parent", yaml: "match:\n  parent: {}\n", line: 2, key: "match.parent", words: "'parent' needs at least one"),
        BadMatch(
            name: "nested parent", yaml: "match:\n  parent:\n    parent: {ID_PATH: x}\n", line: 3, key: "match.parent.parent",
            words: "cannot be nested"),
        BadMatch(
            name: "ancestor key twice", yaml: "match:\n  \"@ID_PATH\": a\n  parent:\n    ID_PATH: b\n", line: 4,
            key: "match.parent.ID_PATH",
            words: "given twice"),
        BadMatch(name: "key with a space", yaml: "match:\n  \"ID PATH\": a\n", line: 2, key: "match.ID PATH", words: "not a udev property"),
    ]

    @Test(arguments: badMatches)
    func badMatchRulesAreRejectedWithTheirPosition(_ bad: BadMatch) throws {
        let error = try #require(throws: ConfigError.self) { try decode(bad.yaml) }
        #expect(error.file == "lab.yaml")
        #expect(error.line == bad.line, "\(error)")
        #expect(error.key == bad.key, "\(error)")
        #expect(error.message.contains(bad.words), "\(error)")
    }

    @Test func descriptionIsYAMLThatDecodesToTheSameRule() throws {
        let rule = DeviceMatch(
            [
                .init("ID_SERIAL_SHORT", "A50285BI"), .init("ID_USB_INTERFACE_NUM", "00"), .init("ID_VENDOR_ID", "0403"),
                .init("ID_PATH", "pci-0000:00:14.0-usb-0:1.2:1.0"), .init("ID_MODEL", "FT232R USB UART"), .init("weird", "a: b, \"c\" #d"),
                .init("flag", "true"), .init("nothing", "null"), .init("time", "1:20"), .init("hex", "0x1f"), .init("dash", "-x"),
            ], ancestor: [.init("DEVPATH", "/devices/pci0000:00/0000:00:15.0/i2c_designware.0/i2c-1/1-0040")])
        #expect(rule.description.hasPrefix("{ID_SERIAL_SHORT: A50285BI, ID_USB_INTERFACE_NUM: \"00\", ID_VENDOR_ID: \"0403\", "))
        let decoded = try decode("match: \(rule.description)\n")
        #expect(decoded.conditions == rule.conditions)
        #expect(decoded.ancestorConditions == rule.ancestorConditions)
    }
}

@Suite("Devices named in lab files")
struct LabDeviceReferenceTests {
    func decode(_ console: String, power: String = "{kind: lcus, device: relay0, channel: 1}", meter: String = "") throws -> LabConfig {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-devref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("boards"), withIntermediateDirectories: true)
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        try FileManager.default.copyItem(
            at: source.appendingPathComponent("boards/qemu-arm64-uboot.yaml"),
            to: folder.appendingPathComponent("boards/qemu-arm64-uboot.yaml"))
        let yaml =
            "name: t\ntftp_root: /tmp\nboards:\n  b1:\n    type: qemu-arm64-uboot\n    power: \(power)\n    console: \(console)\n"
            + (meter.isEmpty ? "" : "    meter: \(meter)\n")
        let file = folder.appendingPathComponent("labs/lab.yaml")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return try LabConfig.decode(try ConfigNode.load(file.path), file: file.path)
    }

    @Test func aConsoleCanBeNamedByUdevProperties() throws {
        let lab = try decode("{kind: serial, match: {ID_SERIAL_SHORT: A50285BI}}")
        guard case .serial(.match(let match), _) = lab.boards[0].console else {
            Issue.record("expected a matched console, got \(lab.boards[0].console)")
            return
        }
        #expect(match.conditions == [.init("ID_SERIAL_SHORT", "A50285BI")])
        // A relative device path is relative to the lab file.
        guard case .lcus(.path(let relay), _, _) = lab.boards[0].power else {
            Issue.record("expected an lcus relay by path")
            return
        }
        #expect(relay.hasSuffix("/labs/relay0"))
    }

    @Test func deviceAndMatchTogetherContradict() {
        #expect(throws: ConfigError.self) { try decode("{kind: serial, device: /dev/ttyS0, match: {ID_SERIAL_SHORT: X}}") }
    }

    @Test func aSerialConsoleNeedsADeviceOrAMatch() {
        do {
            _ = try decode("{kind: serial, baud: 115200}")
            Issue.record("a console without a device was accepted")
        } catch let error as ConfigError {
            #expect(error.line == 7)
            #expect(error.message.contains("missing 'device' or 'match'"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    /// What `bootfarm lab discover` prints for a HID relay board is a lab file entry as it is.
    @Test func aHIDRelayBoardCanBeNamedBySerialOrByUdevProperties() throws {
        let console = "{kind: serial, device: /dev/ttyS0}"
        let bySerial = try decode(console, power: "{kind: usb-hid-relay, serial: QAAMZ, channel: 2}")
        #expect(bySerial.boards[0].power == .hidRelay(board: .serial("QAAMZ"), channel: 2))
        let byPort = try decode(console, power: "{kind: usb-hid-relay, match: {ID_PATH: pci-0000:00:14.0-usb-0:1.3:1.0}, channel: 1}")
        guard case .hidRelay(.match(let match), 1) = byPort.boards[0].power else {
            Issue.record("expected a matched HID relay, got \(byPort.boards[0].power)")
            return
        }
        #expect(match.conditions == [.init("ID_PATH", "pci-0000:00:14.0-usb-0:1.3:1.0")])
    }

    @Test func aHIDRelayBoardNamedBothWaysOrNeitherIsRejectedOnItsLine() {
        let console = "{kind: serial, device: /dev/ttyS0}"
        for (power, words) in [
            ("{kind: usb-hid-relay, serial: QAAMZ, match: {ID_PATH: x}, channel: 1}", "'serial' and 'match' contradict"),
            ("{kind: usb-hid-relay, channel: 1}", "missing 'serial'"),
        ] {
            do {
                _ = try decode(console, power: power)
                Issue.record("accepted \(power)")
            } catch let error as ConfigError {
                #expect(error.line == 6, "\(error)")
                #expect(error.message.contains(words), "\(error)")
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
    }

    @Test func anIIOMeterCanBeReadThroughItsBuffer() throws {
        let console = "{kind: serial, device: /dev/ttyS0}"
        let lab = try decode(console, meter: "{kind: iio, path: /sys/bus/iio/devices/iio:device0, buffer: true, buffer_device: iio0.fifo}")
        let meter = try #require(lab.boards[0].meter)
        #expect(meter.buffered)
        #expect(meter.bufferDevice?.hasSuffix("/labs/iio0.fifo") == true)
        let polled = try #require(try decode(console, meter: "{kind: iio, path: /sys/bus/iio/devices/iio:device0}").boards[0].meter)
        #expect(!polled.buffered && polled.bufferDevice == nil)
    }
}
