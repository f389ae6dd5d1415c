/// What a power meter measured at one moment.
public struct PowerReading: Sendable, Hashable {
    /// Power in microwatts.
    public var powerMicrowatts: Int64
    /// Supply (bus) voltage in millivolts, where the meter reports it.
    public var voltageMillivolts: Double?
    /// Current in milliamps, where the meter reports it.
    public var currentMilliamps: Double?

    public init(powerMicrowatts: Int64, voltageMillivolts: Double? = nil, currentMilliamps: Double? = nil) {
        self.powerMicrowatts = powerMicrowatts
        self.voltageMillivolts = voltageMillivolts
        self.currentMilliamps = currentMilliamps
    }

    /// Power in watts.
    public var watts: Double { Double(powerMicrowatts) / 1e6 }
}
