import FarmCore
import FarmDrivers
import Foundation
import Testing

@Suite("Resolving lab devices")
struct DeviceResolverTests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/sysfs/hub-two-ftdi-relay").path
    let discovery = DeviceDiscovery(method: .sysfs, sysfsRoot: fixture)

    @Test func aPathIsUsedAsItIs() throws {
        #expect(try DeviceResolver.resolve(.path("/dev/ttyS3"), subsystems: ["tty"], discovery: discovery) == "/dev/ttyS3")
    }

    @Test func aSerialNumberFindsItsAdapterWhereverItIsPlugged() throws {
        let match = DeviceMatch([.init("ID_SERIAL_SHORT", "A50285BI"), .init("ID_USB_INTERFACE_NUM", "00")])
        #expect(try DeviceResolver.resolve(.match(match), subsystems: ["tty"], discovery: discovery) == "/dev/ttyUSB0")
    }

    @Test func aMeterResolvesToItsSysfsDirectory() throws {
        let match = DeviceMatch([.init("name", "ina226")])
        let path = try DeviceResolver.resolve(.match(match), subsystems: ["hwmon"], discovery: discovery)
        #expect(path.hasPrefix(Self.fixture))
        #expect(FileManager.default.fileExists(atPath: path + "/name"))
    }

    @Test func aRuleThatMatchesNothingSaysSo() {
        let match = DeviceMatch([.init("ID_SERIAL_SHORT", "NOSUCH")])
        #expect(throws: DeviceMatchError.self) {
            try DeviceResolver.resolve(.match(match), subsystems: ["tty"], discovery: discovery)
        }
    }

    /// The rule `bootfarm lab discover` prints for the relay board (its hidraw node's port) finds
    /// the board's USB address; so does a rule on the USB device itself.
    @Test func aRelayBoardMatchFindsItsBusAndAddress() throws {
        let report = try discovery.discover()
        let relay = try #require(report.found.first { $0.kind == .relayBoard })
        #expect(try DeviceResolver.usbAddress(ofRelay: relay.match, discovery: discovery) == .usb(bus: 1, address: 5))
        let byVendor = DeviceMatch([.init("ID_VENDOR_ID", "16c0"), .init("ID_MODEL_ID", "05df")])
        #expect(try DeviceResolver.usbAddress(ofRelay: byVendor, discovery: discovery) == .usb(bus: 1, address: 5))
        #expect(throws: DeviceMatchError.self) {
            try DeviceResolver.usbAddress(ofRelay: DeviceMatch([.init("ID_PATH", "pci-0000:00:14.0-usb-0:9")]), discovery: discovery)
        }
    }
}
