import FarmCore
import FarmDrivers
import Foundation
import Testing

@Suite("Power meters")
struct PowerMeterTests {
    /// Writes `files` (name: contents) into a new folder.
    func fixture(_ files: [String: String]) throws -> TemporaryFolder {
        let folder = try TemporaryFolder()
        for (name, contents) in files {
            try contents.write(toFile: folder.file(name), atomically: false, encoding: .utf8)
        }
        return folder
    }

    @Test func hwmonReadsPowerVoltageAndCurrentExactly() throws {
        let folder = try fixture(["name": "ina226\n", "power1_input": "2412000\n", "curr1_input": "482\n", "in1_input": "5004\n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        #expect(try meter.read() == PowerReading(powerMicrowatts: 2_412_000, voltageMillivolts: 5004, currentMilliamps: 482))
        #expect(meter.chipName == "ina226")
        #expect(meter.description == "hwmon \(folder.path) (ina226)")
    }

    @Test func hwmonComputesPowerFromVoltageAndCurrentWhenPowerIsMissing() throws {
        let folder = try fixture(["curr1_input": "-480\n", "in1_input": "5000\n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        #expect(try meter.read() == PowerReading(powerMicrowatts: -2_400_000, voltageMillivolts: 5000, currentMilliamps: -480))
        #expect(meter.chipName == nil)
    }

    @Test func hwmonCanReadPowerAlone() throws {
        let folder = try fixture(["power1_input": "1000\n", "curr1_input": "1\n", "in1_input": "5000\n"])
        let meter = try HwmonPowerMeter(directory: folder.path, readsVoltageAndCurrent: false)
        #expect(try meter.read() == PowerReading(powerMicrowatts: 1000))
    }

    @Test func hwmonReadPowerReadsThePowerFileAlone() throws {
        let folder = try fixture(["power1_input": "2412000\n", "curr1_input": "482\n", "in1_input": "5004\n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        #expect(try meter.readPower() == PowerReading(powerMicrowatts: 2_412_000))
        // The current file is not even looked at: spoiling it fails `read()` only.
        try "spoilt\n".write(toFile: folder.file("curr1_input"), atomically: false, encoding: .utf8)
        #expect(try meter.readPower() == PowerReading(powerMicrowatts: 2_412_000))
        #expect(throws: PowerMeterError.self) { try meter.read() }
    }

    @Test func hwmonReadPowerWithoutAPowerFileReturnsVoltageAndCurrentWithTheirProduct() throws {
        let folder = try fixture(["curr1_input": "480\n", "in1_input": "5000\n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        #expect(try meter.readPower() == PowerReading(powerMicrowatts: 2_400_000, voltageMillivolts: 5000, currentMilliamps: 480))
    }

    @Test func iioReadPowerReadsThePowerChannelAlone() throws {
        let folder = try fixture([
            "in_power0_raw": "4824\n", "in_power_scale": "0.500000000\n",
            "in_voltage0_raw": "4000\n", "in_voltage_scale": "1.250000000\n",
            "in_current0_raw": "-12\n", "in_current_scale": "0.250000000\n",
        ])
        let meter = try IIOPowerMeter(directory: folder.path)
        #expect(try meter.readPower() == PowerReading(powerMicrowatts: 2_412_000))
        #expect(try meter.read() == PowerReading(powerMicrowatts: 2_412_000, voltageMillivolts: 5000, currentMilliamps: -3))
        let withoutPower = try fixture([
            "in_voltage0_raw": "4000\n", "in_voltage_scale": "1.25\n", "in_current0_raw": "1000\n", "in_current_scale": "0.5\n",
        ])
        #expect(
            try IIOPowerMeter(directory: withoutPower.path).readPower()
                == PowerReading(powerMicrowatts: 2_500_000, voltageMillivolts: 5000, currentMilliamps: 500))
    }

    @Test func hwmonWithoutPowerOrBothVoltageAndCurrentNamesThePowerFile() throws {
        let folder = try fixture(["name": "ina226\n", "in1_input": "5000\n"])
        #expect(
            throws: PowerMeterError.missingFile(path: folder.file("power1_input"), expected: "power1_input, or curr1_input and in1_input")
        ) {
            try HwmonPowerMeter(directory: folder.path)
        }
        let error = PowerMeterError.missingFile(path: folder.file("power1_input"), expected: "power1_input, or curr1_input and in1_input")
        #expect(error.description.contains(folder.file("power1_input")))
    }

    @Test func aMissingDirectoryIsNamed() throws {
        let folder = try TemporaryFolder()
        let missing = folder.file("hwmon9")
        #expect(throws: PowerMeterError.missingDirectory(path: missing)) { try HwmonPowerMeter(directory: missing) }
        #expect(throws: PowerMeterError.missingDirectory(path: missing)) { try IIOPowerMeter(directory: missing) }
        try "x".write(toFile: missing, atomically: false, encoding: .utf8)
        #expect(throws: PowerMeterError.missingDirectory(path: missing)) { try HwmonPowerMeter(directory: missing) }
    }

    @Test func iioAppliesScalesAndOffsetsInTheABIUnits() throws {
        // Power in mW, voltage in mV, current in mA after (raw + offset) × scale; a channel's own
        // scale wins over the shared one.
        let folder = try fixture([
            "name": "ina226\n",
            "in_power0_raw": "4824\n", "in_power_scale": "0.500000000\n",
            "in_voltage0_raw": "4003\n", "in_voltage_scale": "1.250000000\n", "in_voltage_offset": "-3\n",
            "in_current0_raw": "-12\n", "in_current_scale": "9\n", "in_current0_scale": "0.250000000\n",
        ])
        let meter = try IIOPowerMeter(directory: folder.path)
        #expect(try meter.read() == PowerReading(powerMicrowatts: 2_412_000, voltageMillivolts: 5000, currentMilliamps: -3))
        #expect(meter.deviceName == "ina226")
    }

    @Test func iioChannelNumbersFollowTheDriverLayout() throws {
        // ina2xx-adc: shunt voltage 0, bus voltage 1, power 2, current 3; power scale 25 mW.
        let folder = try fixture([
            "in_voltage0_raw": "120\n", "in_voltage1_raw": "4000\n", "in_power2_raw": "96\n", "in_current3_raw": "480\n",
            "in_voltage0_scale": "0.002500000\n", "in_voltage1_scale": "1.250000000\n",
            "in_power2_scale": "25.000000000\n", "in_current3_scale": "1.000000000\n",
        ])
        let meter = try IIOPowerMeter(directory: folder.path, powerChannel: 2, voltageChannel: 1, currentChannel: 3)
        #expect(try meter.read() == PowerReading(powerMicrowatts: 2_400_000, voltageMillivolts: 5000, currentMilliamps: 480))
    }

    @Test func iioWithoutScaleTakesRawValuesAsTheUnit() throws {
        let folder = try fixture(["in_power0_raw": "1250\n"])
        let meter = try IIOPowerMeter(directory: folder.path)
        #expect(try meter.read() == PowerReading(powerMicrowatts: 1_250_000))
    }

    @Test func iioComputesPowerFromVoltageAndCurrentWhenPowerIsMissing() throws {
        let folder = try fixture([
            "in_voltage0_raw": "4000\n", "in_voltage_scale": "1.25\n", "in_current0_raw": "1000\n", "in_current_scale": "0.5\n",
        ])
        let meter = try IIOPowerMeter(directory: folder.path)
        #expect(try meter.read() == PowerReading(powerMicrowatts: 2_500_000, voltageMillivolts: 5000, currentMilliamps: 500))
    }

    @Test func iioWithoutPowerOrBothVoltageAndCurrentNamesThePowerFile() throws {
        let folder = try fixture(["in_current0_raw": "1\n"])
        #expect(
            throws: PowerMeterError.missingFile(
                path: folder.file("in_power0_raw"), expected: "in_power0_raw, or in_voltage0_raw and in_current0_raw")
        ) {
            try IIOPowerMeter(directory: folder.path)
        }
    }

    @Test func aScaleThatIsNotANumberIsNamed() throws {
        let folder = try fixture(["in_power0_raw": "1\n", "in_power_scale": "fast\n"])
        #expect(throws: PowerMeterError.malformedValue(path: folder.file("in_power_scale"), text: "fast")) {
            try IIOPowerMeter(directory: folder.path)
        }
    }

    @Test func aValueThatIsNotANumberIsNamed() throws {
        let folder = try fixture(["power1_input": "12a\n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        #expect(throws: PowerMeterError.malformedValue(path: folder.file("power1_input"), text: "12a")) { try meter.read() }
    }

    @Test func valuesWithPaddingAndSignsParse() throws {
        let folder = try fixture(["power1_input": "   +0001500 \n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        #expect(try meter.read().powerMicrowatts == 1500)
        try "-99999999999999999999\n".write(toFile: folder.file("power1_input"), atomically: false, encoding: .utf8)
        #expect(throws: PowerMeterError.self) { try meter.read() }
    }

    @Test func aMeterSeesValuesRewrittenInPlace() throws {
        let folder = try fixture(["power1_input": "1000\n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        #expect(try meter.read().powerMicrowatts == 1000)
        try "2000\n".write(toFile: folder.file("power1_input"), atomically: false, encoding: .utf8)
        #expect(try meter.read().powerMicrowatts == 2000)
    }

    @Test func aFileReplacedByRenameAndEmptiedIsOpenedAgainAtOnce() throws {
        let folder = try fixture(["power1_input": "1000\n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        #expect(try meter.read().powerMicrowatts == 1000)
        let old = try FileHandle(forWritingTo: URL(fileURLWithPath: folder.file("power1_input")))
        try "3000\n".write(toFile: folder.file("new"), atomically: false, encoding: .utf8)
        try #require(rename(folder.file("new"), folder.file("power1_input")) == 0)
        try old.truncate(atOffset: 0)
        try old.close()
        #expect(try meter.read().powerMicrowatts == 3000)
    }

    @Test func aFileReplacedByRenameAloneIsPickedUpWithinSixteenReads() throws {
        let folder = try fixture(["power1_input": "1000\n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        #expect(try meter.read().powerMicrowatts == 1000)
        try "4000\n".write(toFile: folder.file("power1_input"), atomically: true, encoding: .utf8)
        let readings = try (0..<16).map { _ in try meter.read().powerMicrowatts }
        #expect(readings.last == 4000)
        #expect(readings.allSatisfy { $0 == 1000 || $0 == 4000 })
    }

    @Test func aRemovedMeterFailsNamingTheFileAndRecoversWhenItReturns() throws {
        let folder = try fixture(["power1_input": "1000\n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        // Unplugged: the attribute is emptied and goes away.
        let old = try FileHandle(forWritingTo: URL(fileURLWithPath: folder.file("power1_input")))
        try FileManager.default.removeItem(atPath: folder.file("power1_input"))
        try old.truncate(atOffset: 0)
        try old.close()
        #expect(throws: PowerMeterError.unreadable(path: folder.file("power1_input"), reason: "No such file or directory")) {
            try meter.read()
        }
        try "4000\n".write(toFile: folder.file("power1_input"), atomically: false, encoding: .utf8)
        #expect(try meter.read().powerMicrowatts == 4000)
    }

    @Test func anEmptyFileIsAFailedRead() throws {
        let folder = try fixture(["power1_input": "1000\n"])
        let meter = try HwmonPowerMeter(directory: folder.path)
        try "".write(toFile: folder.file("power1_input"), atomically: false, encoding: .utf8)
        #expect(throws: PowerMeterError.unreadable(path: folder.file("power1_input"), reason: "empty")) { try meter.read() }
    }
}
