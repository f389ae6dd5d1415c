import FarmCore
import Foundation
import Synchronization

/// Simulated power sensors for the meters a lab names.
public enum SimulatedMeters {
    /// Creates and starts a sensor at `meter.path` following the board's power; returns the hook
    /// that tells it the board's stage (nil: off).
    public static func make(board: BoardConfig, meter: MeterResource) throws -> @Sendable (Stage?) -> Void {
        guard let path = meter.path else { return { _ in } }
        if meter.buffered {
            // An IIO device in buffered mode: scans follow the board's stage as it changes.
            let stage = Mutex<Stage?>(nil)
            let model = BoardPowerModel()
            let device = try SimulatedIIOBuffer(
                in: (path as NSString).deletingLastPathComponent, name: (path as NSString).lastPathComponent,
                bufferDevice: meter.bufferDevice,
                rateHz: meter.rateHz
            ) { time in model.watts(at: stage.withLock { $0 }, sample: Int(time / 1_000_000)) }
            device.start()
            // The writer holds devices weakly: the hook keeps this one alive.
            return { new in withExtendedLifetime(device) { stage.withLock { $0 = new } } }
        }
        let sensor = try SimulatedPowerSensor(
            interface: meter.kind == .hwmon ? .hwmon : .iio, in: (path as NSString).deletingLastPathComponent,
            directoryName: (path as NSString).lastPathComponent,
            // Each update replaces the power and current files; 50 Hz keeps a simulated lab light
            // on a 2-core machine.
            updateRateHz: 50)
        sensor.start()
        return { stage in sensor.setStage(stage) }
    }
}
