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
}
