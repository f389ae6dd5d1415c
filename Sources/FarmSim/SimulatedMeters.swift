import FarmCore
import Foundation

/// Simulated power sensors for the meters a lab names.
public enum SimulatedMeters {
    /// Creates and starts a sensor at `meter.path` following the board's power; returns the hook
    /// that tells it the board's stage (nil: off).
    public static func make(board: BoardConfig, meter: MeterResource) throws -> @Sendable (Stage?) -> Void {
        let sensor = try SimulatedPowerSensor(
            interface: meter.kind == .hwmon ? .hwmon : .iio, in: (meter.path as NSString).deletingLastPathComponent,
            directoryName: (meter.path as NSString).lastPathComponent)
        sensor.start()
        return { stage in sensor.setStage(stage) }
    }
}
