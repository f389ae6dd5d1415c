import Foundation
import Testing

/// `bootfarm lab discover` on the sysfs fixture of a hub with two FTDI adapters, a HID relay
/// board and an INA226, and on an empty tree.
@Suite("bootfarm lab discover")
struct LabDiscoverCommandTests {
    static let fixture = "Tests/Fixtures/sysfs/hub-two-ftdi-relay"

    @Test func labDiscoveryOfTheFixtureListsEachDeviceWithItsLabLineAsTheGoldenFileSays() throws {
        let result = try Harness.run(["lab", "discover", "--sysfs", Self.fixture])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardError.isEmpty)
        let golden = try String(
            contentsOf: Harness.repositoryRoot.appendingPathComponent("Tests/BootfarmCLITests/Golden/lab-discover-hub-fixture.txt"),
            encoding: .utf8)
        #expect(result.standardOutput == golden)
    }

    @Test func labDiscoveryPrintsJSON() throws {
        let result = try Harness.run(["lab", "discover", "--sysfs", Self.fixture, "--json"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let object = try Harness.jsonObject(result.standardOutput)
        #expect(object["method"] as? String == "sysfs")
        #expect(object["sysfs_root"] as? String == Self.fixture)
        let devices = try #require(object["devices"] as? [[String: Any]])
        #expect(devices.map { $0["name"] as? String } == ["/dev/ttyUSB0", "/dev/ttyUSB1", "/dev/hidraw0", "hwmon2"])
        #expect(devices.map { $0["kind"] as? String } == ["serial-adapter", "serial-adapter", "relay-board", "power-meter"])
        #expect(devices.map { $0["serial"] as? String } == ["A50285BI", "A9GJ2KXL", nil, nil])
        #expect(
            devices.map { $0["id_path"] as? String } == [
                "pci-0000:00:14.0-usb-0:1.1:1.0", "pci-0000:00:14.0-usb-0:1.2:1.0", "pci-0000:00:14.0-usb-0:1.3:1.0",
                "pci-0000:00:15.0-platform-i2c_designware.0",
            ])
        #expect(devices[0]["interface_number"] as? String == "00")
        #expect(devices[0]["match"] as? [String: String] == ["ID_SERIAL_SHORT": "A50285BI", "ID_USB_INTERFACE_NUM": "00"])
        #expect(devices[2]["relay_channels"] as? Int == 2)
        #expect(devices[3]["devpath"] as? String == "/devices/pci0000:00/0000:00:15.0/i2c_designware.0/i2c-1/1-0040/hwmon/hwmon2")
        let properties = try #require(devices[1]["properties"] as? [String: String])
        #expect(properties["ID_VENDOR_ID"] == "0403")
        #expect(properties["ID_MODEL_ID"] == "6001")
    }

    @Test func labDiscoveryOfAnEmptyTreeSaysNothingWasFoundAndSucceeds() throws {
        let folder = try Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("devices"), withIntermediateDirectories: true)
        let result = try Harness.run(["lab", "discover", "--sysfs", folder.path])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("Found by reading sysfs at \(folder.path) "))
        #expect(result.standardOutput.hasSuffix("\nNo USB serial adapters, relay boards or power meters found (0 devices looked at).\n"))
    }

    @Test func labDiscoveryOfAMissingTreeIsAUsageError() throws {
        let result = try Harness.run(["lab", "discover", "--sysfs", "/nonexistent-sysfs"])
        #expect(result.exitCode == 2)
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.hasPrefix("bootfarm: error: no sysfs at /nonexistent-sysfs"))
    }
}
