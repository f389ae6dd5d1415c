/// A power meter on a board's supply (an INA226 on an ACME probe, seen through hwmon or IIO).
///
/// `read()` is called from a sampling thread up to 1000 times a second, so it must be quick and
/// must not allocate much; it may block only as long as the hardware takes to answer.
public protocol PowerMeter: Sendable {
    /// Reads the meter once. Throws `PowerMeterError` when the meter does not answer.
    func read() throws -> PowerReading
}
