/// One power-meter reading, stamped on the boot clock.
///
/// Voltage and current are kept in micro-units so that whole-millivolt hwmon values and the
/// fractional values of IIO scales (1.25 mV per unit on an INA226) are stored exactly.
public struct PowerSample: Sendable, Hashable {
    /// Nanoseconds since power-on.
    public var timeNanoseconds: Int64
    /// Power in microwatts.
    public var powerMicrowatts: Int64
    /// Supply voltage in microvolts, where the meter reports it.
    public var voltageMicrovolts: Int64?
    /// Current in microamps, where the meter reports it.
    public var currentMicroamps: Int64?

    public init(timeNanoseconds: Int64, powerMicrowatts: Int64, voltageMicrovolts: Int64? = nil, currentMicroamps: Int64? = nil) {
        self.timeNanoseconds = timeNanoseconds
        self.powerMicrowatts = powerMicrowatts
        self.voltageMicrovolts = voltageMicrovolts
        self.currentMicroamps = currentMicroamps
    }

    /// A sample from a meter's units: voltage in millivolts and current in milliamps, each rounded
    /// to the nearest micro-unit.
    public init(timeNanoseconds: Int64, powerMicrowatts: Int64, voltageMillivolts: Double?, currentMilliamps: Double?) {
        self.init(
            timeNanoseconds: timeNanoseconds, powerMicrowatts: powerMicrowatts,
            voltageMicrovolts: voltageMillivolts.flatMap(Self.micro), currentMicroamps: currentMilliamps.flatMap(Self.micro))
    }

    /// Seconds since power-on.
    public var seconds: Double { Double(timeNanoseconds) / 1e9 }
    /// Power in watts.
    public var watts: Double { Double(powerMicrowatts) / 1e6 }
    /// Supply voltage in millivolts.
    public var voltageMillivolts: Double? { voltageMicrovolts.map { Double($0) / 1000 } }
    /// Current in milliamps.
    public var currentMilliamps: Double? { currentMicroamps.map { Double($0) / 1000 } }

    /// A milli-unit value in micro-units; nil when it is not finite or does not fit.
    private static func micro(_ milli: Double) -> Int64? {
        let scaled = (milli * 1000).rounded()
        guard scaled.isFinite, abs(scaled) < 9.2e18 else { return nil }
        return Int64(scaled)
    }
}
