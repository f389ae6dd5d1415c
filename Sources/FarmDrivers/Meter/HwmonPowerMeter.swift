import Synchronization

/// A power meter seen through hwmon, such as the `ina2xx` driver for an INA226:
/// `power1_input` (µW), `curr1_input` (mA) and `in1_input` (bus voltage, mV).
///
/// Where `power1_input` is missing, power is voltage × current (mV × mA = µW). The files stay
/// open between reads (see `SensorAttributeFile`).
public final class HwmonPowerMeter: PowerMeter, CustomStringConvertible {
    /// The hwmon directory, such as `/sys/class/hwmon/hwmon2`.
    public let directory: String
    /// The chip from the directory's `name` file, such as `ina226`, if it has one.
    public let chipName: String?
    private let files: Mutex<Files>

    private struct Files {
        var power: SensorAttributeFile?
        var voltage: SensorAttributeFile?
        var current: SensorAttributeFile?
    }

    /// Opens the meter in `directory`.
    ///
    /// - Parameter readsVoltageAndCurrent: also read `in1_input` and `curr1_input` in `read()`
    ///   where they exist (default); `false` reads only `power1_input`, one file a sample instead
    ///   of three. `readPower()` reads `power1_input` alone either way.
    /// - Throws: `PowerMeterError.missingDirectory`, or `missingFile` naming `power1_input` when
    ///   neither it nor both `curr1_input` and `in1_input` exist.
    public init(directory: String, readsVoltageAndCurrent: Bool = true) throws(PowerMeterError) {
        guard SensorAttributeFile.isDirectory(directory) else { throw .missingDirectory(path: directory) }
        let expected = "power1_input, or curr1_input and in1_input"
        func path(_ name: String) -> String { directory.hasSuffix("/") ? directory + name : directory + "/" + name }
        func openIfPresent(_ name: String) throws(PowerMeterError) -> SensorAttributeFile? {
            SensorAttributeFile.exists(path(name)) ? try SensorAttributeFile(path: path(name), expected: expected) : nil
        }
        var files = Files()
        files.power = try openIfPresent("power1_input")
        if readsVoltageAndCurrent || files.power == nil {
            files.voltage = try openIfPresent("in1_input")
            files.current = try openIfPresent("curr1_input")
        }
        if files.power == nil && (files.voltage == nil || files.current == nil) {
            throw .missingFile(path: path("power1_input"), expected: expected)
        }
        let name =
            SensorAttributeFile.exists(path("name")) ? try? SensorAttributeFile(path: path("name"), expected: "name").readText() : nil
        self.directory = directory
        chipName = name.flatMap { $0.isEmpty ? nil : $0 }
        self.files = Mutex(files)
    }

    public func read() throws(PowerMeterError) -> PowerReading {
        try files.withLock { files throws(PowerMeterError) -> PowerReading in
            var voltage: Int64?
            var current: Int64?
            if let file = files.voltage { voltage = try file.readInteger() }
            if let file = files.current { current = try file.readInteger() }
            let power: Int64
            if let file = files.power {
                power = try file.readInteger()
            } else if let voltage, let current {
                power = voltage.multipliedReportingOverflow(by: current).partialValue
            } else {
                power = 0
            }
            return PowerReading(
                powerMicrowatts: power, voltageMillivolts: voltage.map(Double.init), currentMilliamps: current.map(Double.init))
        }
    }

    /// Reads `power1_input` alone; without one, reads voltage and current and returns them with
    /// their product.
    public func readPower() throws(PowerMeterError) -> PowerReading {
        try files.withLock { files throws(PowerMeterError) -> PowerReading in
            if let file = files.power { return PowerReading(powerMicrowatts: try file.readInteger()) }
            guard let voltageFile = files.voltage, let currentFile = files.current else { return PowerReading(powerMicrowatts: 0) }
            let voltage = try voltageFile.readInteger()
            let current = try currentFile.readInteger()
            return PowerReading(
                powerMicrowatts: voltage.multipliedReportingOverflow(by: current).partialValue, voltageMillivolts: Double(voltage),
                currentMilliamps: Double(current))
        }
    }

    public var description: String { "hwmon \(directory)" + (chipName.map { " (\($0))" } ?? "") }
}
