import Synchronization

/// A power meter seen through the kernel's IIO interface, such as the `ina2xx-adc` driver.
///
/// Each quantity is `(in_<type>N_raw + offset) × scale`, with `scale` and `offset` taken from
/// `in_<type>N_scale` or else the shared `in_<type>_scale` (1 when neither exists) and likewise
/// for the offset (0 when none). Per the IIO ABI the results are milliwatts for power, millivolts
/// for voltage and milliamps for current. Scales and offsets are read once, when the meter opens;
/// raw values are read every time. Where the power channel is missing, power is voltage × current.
public final class IIOPowerMeter: PowerMeter, CustomStringConvertible {
    /// The device directory, such as `/sys/bus/iio/devices/iio:device0`.
    public let directory: String
    /// The device from the directory's `name` file, if it has one.
    public let deviceName: String?
    private let channels: Mutex<Channels>

    private struct Channels {
        var power: Channel?
        var voltage: Channel?
        var current: Channel?
    }

    private struct Channel {
        let raw: SensorAttributeFile
        let offset: Double
        let scale: Double

        func value() throws(PowerMeterError) -> Double { (Double(try raw.readInteger()) + offset) * scale }
    }

    /// Opens the meter in `directory`.
    ///
    /// - Parameters:
    ///   - powerChannel, voltageChannel, currentChannel: the channel numbers `N` (0 by default;
    ///     `ina2xx-adc` has the bus voltage on 1, power on 2 and current on 3).
    ///   - readsVoltageAndCurrent: also read the voltage and current channels in `read()` where
    ///     they exist (default); `false` reads only the power channel. `readPower()` reads the
    ///     power channel alone either way.
    /// - Throws: `PowerMeterError.missingDirectory`; `missingFile` naming the power channel's raw
    ///   file when neither it nor both the voltage and current channels exist; `malformedValue`
    ///   for a scale or offset that is not a number.
    public init(
        directory: String, powerChannel: Int = 0, voltageChannel: Int = 0, currentChannel: Int = 0,
        readsVoltageAndCurrent: Bool = true
    ) throws(PowerMeterError) {
        guard SensorAttributeFile.isDirectory(directory) else { throw .missingDirectory(path: directory) }
        func path(_ name: String) -> String { directory.hasSuffix("/") ? directory + name : directory + "/" + name }
        let expected =
            "in_power\(powerChannel)_raw, or in_voltage\(voltageChannel)_raw and in_current\(currentChannel)_raw"

        func openChannel(_ type: String, _ number: Int) throws(PowerMeterError) -> Channel? {
            let rawPath = path("in_\(type)\(number)_raw")
            guard SensorAttributeFile.exists(rawPath) else { return nil }
            let raw = try SensorAttributeFile(path: rawPath, expected: expected)
            return Channel(
                raw: raw, offset: try Self.channelAttribute("offset", type: type, number: number, in: directory, default: 0),
                scale: try Self.channelAttribute("scale", type: type, number: number, in: directory, default: 1))
        }

        var channels = Channels()
        channels.power = try openChannel("power", powerChannel)
        if readsVoltageAndCurrent || channels.power == nil {
            channels.voltage = try openChannel("voltage", voltageChannel)
            channels.current = try openChannel("current", currentChannel)
        }
        if channels.power == nil && (channels.voltage == nil || channels.current == nil) {
            throw .missingFile(path: path("in_power\(powerChannel)_raw"), expected: expected)
        }
        let name =
            SensorAttributeFile.exists(path("name")) ? try? SensorAttributeFile(path: path("name"), expected: "name").readText() : nil
        self.directory = directory
        deviceName = name.flatMap { $0.isEmpty ? nil : $0 }
        self.channels = Mutex(channels)
    }

    /// Channel `type``number`'s `name` (`scale`, `offset`) in the device `directory`: its own
    /// `in_<type><N>_<name>` file, else the type's shared `in_<type>_<name>`, else `fallback`.
    static func channelAttribute(
        _ name: String, type: String, number: Int, in directory: String, default fallback: Double
    ) throws(PowerMeterError) -> Double {
        let base = directory.hasSuffix("/") ? directory : directory + "/"
        for candidate in [base + "in_\(type)\(number)_\(name)", base + "in_\(type)_\(name)"] where SensorAttributeFile.exists(candidate) {
            return try SensorAttributeFile(path: candidate, expected: candidate).readDecimal()
        }
        return fallback
    }

    public func read() throws(PowerMeterError) -> PowerReading {
        try channels.withLock { channels throws(PowerMeterError) -> PowerReading in
            let voltage = try channels.voltage?.value()
            let current = try channels.current?.value()
            if let power = channels.power {
                return PowerReading(
                    powerMicrowatts: try self.microwatts(milliwatts: try power.value(), source: power.raw),
                    voltageMillivolts: voltage, currentMilliamps: current)
            }
            let milliwatts = (voltage ?? 0) * (current ?? 0) / 1000
            return PowerReading(
                powerMicrowatts: try self.microwatts(milliwatts: milliwatts, source: channels.voltage?.raw),
                voltageMillivolts: voltage, currentMilliamps: current)
        }
    }

    /// Reads the power channel alone; without one, reads voltage and current and returns them
    /// with their product.
    public func readPower() throws(PowerMeterError) -> PowerReading {
        try channels.withLock { channels throws(PowerMeterError) -> PowerReading in
            if let power = channels.power {
                return PowerReading(powerMicrowatts: try self.microwatts(milliwatts: try power.value(), source: power.raw))
            }
            let voltage = try channels.voltage?.value()
            let current = try channels.current?.value()
            return PowerReading(
                powerMicrowatts: try self.microwatts(milliwatts: (voltage ?? 0) * (current ?? 0) / 1000, source: channels.voltage?.raw),
                voltageMillivolts: voltage, currentMilliamps: current)
        }
    }

    /// Milliwatts as whole microwatts; `malformedValue` naming `source` (the power channel, else
    /// the voltage one) when the result does not fit.
    private func microwatts(milliwatts: Double, source: SensorAttributeFile?) throws(PowerMeterError) -> Int64 {
        let microwatts = (milliwatts * 1000).rounded()
        guard microwatts.isFinite && abs(microwatts) < 9.2e18 else {
            throw .malformedValue(path: source?.path ?? directory, text: "\(milliwatts) mW")
        }
        return Int64(microwatts)
    }

    public var description: String { "iio \(directory)" + (deviceName.map { " (\($0))" } ?? "") }
}
