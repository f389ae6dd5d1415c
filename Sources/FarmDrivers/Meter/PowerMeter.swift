/// A power meter on a board's supply (an INA226 on an ACME probe, seen through hwmon or IIO).
///
/// The sampler calls these from its sampling threads up to 1000 times a second, so they must be
/// quick and must not allocate much; they may block only as long as the hardware takes to answer.
/// Two threads may call them at once (a sampling thread and its standby), so a meter guards its
/// own state.
public protocol PowerMeter: Sendable {
    /// Reads everything the meter reports: power, and voltage and current where it has them.
    /// Throws `PowerMeterError` when the meter does not answer.
    func read() throws -> PowerReading

    /// Reads power alone (voltage and current nil), for the samples between full readings: one
    /// value file instead of three. A meter that knows power only as voltage × current reads
    /// both and returns them too. Defaults to `read()`.
    func readPower() throws -> PowerReading
}

extension PowerMeter {
    /// Reads everything, for meters that cannot read power alone any cheaper.
    public func readPower() throws -> PowerReading { try read() }
}
