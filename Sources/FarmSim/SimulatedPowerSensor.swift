import FarmCore
import FarmDrivers
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A power meter for a simulated board: a folder laid out like an INA226's hwmon or IIO
/// directory, whose value files are kept updated from a `BoardPowerModel` for the board's current
/// stage. `HwmonPowerMeter` and `IIOPowerMeter` read it like the real thing.
///
/// Every update replaces each value file whose value changed as a whole (see `SimulatedValueFile`):
/// a reader always sees a whole value, and a reader still holding the replaced file finds it
/// empty and opens the path again, as `SensorAttributeFile` does. Folders on a tmpfs such as
/// /dev/shm are much cheaper to update than on ext4, where each replacing rename also flushes the
/// new file's data. One thread updates every started sensor in the process (`writerCPUSeconds`
/// is its CPU time).
public final class SimulatedPowerSensor: PeriodicDevice {
    /// Which kernel interface the folder imitates.
    public enum Interface: String, Sendable {
        /// `name` (`ina226`), `power1_input` (µW), `curr1_input` (mA), `in1_input` (mV).
        case hwmon
        /// `name`, `in_power0_raw`, `in_voltage0_raw`, `in_current0_raw` and their shared
        /// `in_<type>_scale` files (mW, mV and mA per unit).
        case iio
    }

    /// The sensor could not be laid out.
    public struct SetupError: Error, Sendable, CustomStringConvertible {
        /// The file or folder that could not be made.
        public var path: String
        public var reason: String
        public var description: String { "cannot create simulated power sensor file \(path): \(reason)" }
    }

    /// The interface imitated.
    public let interface: Interface
    /// The sensor's folder, to hand to `HwmonPowerMeter` or `IIOPowerMeter`.
    public let directory: String
    /// Power per stage.
    public let model: BoardPowerModel
    /// The supply voltage, in millivolts (current is power ÷ this).
    public let supplyMillivolts: Double
    /// Value updates a second.
    public let updateRateHz: Double

    /// IIO scales: an INA226's bus voltage step (1.25 mV), and round steps for power and current.
    static let powerScaleMilliwatts = 0.5
    static let voltageScaleMillivolts = 1.25
    static let currentScaleMilliamps = 0.25

    private let state: Mutex<State>

    private struct State {
        var stage: Stage?
        var answering = true
        var updates = 0
        var started = false
        var stopped = false
        /// The value files in the order `values(stage:sample:)` gives them: power, current, voltage.
        var files: [SimulatedValueFile]
    }

    /// Lays out the sensor folder `folder/directoryName` (default `hwmon0` or `iio:device0`) with
    /// the board off (0 W). Updates start with `start()`.
    ///
    /// - Parameters:
    ///   - updateRateHz: how often values change (default 500 Hz, about an INA226's conversion
    ///     rate with its default 1.1 ms conversion times).
    public init(
        interface: Interface, in folder: String, directoryName: String? = nil, model: BoardPowerModel = BoardPowerModel(),
        supplyMillivolts: Double = 5000, updateRateHz: Double = 500
    ) throws(SetupError) {
        self.interface = interface
        let name = directoryName ?? (interface == .hwmon ? "hwmon0" : "iio:device0")
        let directory = (folder as NSString).appendingPathComponent(name)
        self.directory = directory
        self.model = model
        self.supplyMillivolts = supplyMillivolts
        self.updateRateHz = max(1, updateRateHz)
        let files = Self.valueFileNamesByQuantity(interface).map {
            SimulatedValueFile(path: directory + "/" + $0, sparePath: directory + "/." + $0 + ".new")
        }
        state = Mutex(State(files: files))
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SetupError(path: directory, reason: "\(error)")
        }
        try writeFixedFiles()
        try state.withLock { state throws(SetupError) in try writeValues(&state, sample: 0) }
    }

    /// The files whose values change, by name.
    public var valueFileNames: [String] {
        switch interface {
        case .hwmon: ["power1_input", "curr1_input", "in1_input"]
        case .iio: ["in_power0_raw", "in_voltage0_raw", "in_current0_raw"]
        }
    }

    /// The value files of `interface` for power, current and voltage, in that order.
    private static func valueFileNamesByQuantity(_ interface: Interface) -> [String] {
        switch interface {
        case .hwmon: ["power1_input", "curr1_input", "in1_input"]
        case .iio: ["in_power0_raw", "in_current0_raw", "in_voltage0_raw"]
        }
    }

    /// CPU time of the thread that updates every simulated device (sensor files and IIO buffers),
    /// in seconds, since the process started (for benchmarks that count the simulation's cost).
    public static var writerCPUSeconds: Double { SimulatedDeviceWriter.shared.cpuSeconds }

    /// Starts updating the files: once at once, then `updateRateHz` times a second. Calling it
    /// again, or after `stop()`, does nothing.
    public func start() {
        let mustStart = state.withLock { state in
            guard !state.started && !state.stopped else { return false }
            state.started = true
            if state.answering { try? writeValues(&state, sample: state.updates) }
            return true
        }
        guard mustStart else { return }
        SimulatedDeviceWriter.shared.register(self, periodNanoseconds: Int64((1e9 / updateRateHz).rounded()))
    }

    /// Stops updating the files; returns once an update under way has finished. The files stay.
    public func stop() {
        state.withLock { state in state.stopped = true }
        SimulatedDeviceWriter.shared.unregister(self)
    }

    /// Sets the board's stage; `nil` means powered off. The next update follows it.
    public func setStage(_ stage: Stage?) {
        state.withLock { $0.stage = stage }
    }

    /// The stage the sensor follows.
    public var stage: Stage? { state.withLock { $0.stage } }

    /// Updates written since the sensor was made.
    public var updates: Int { state.withLock { $0.updates } }

    /// Makes the meter stop answering, as when its probe is unplugged: the value files are emptied
    /// and disappear and are no longer updated, so reads fail.
    public func stopAnswering() {
        state.withLock { state in
            state.answering = false
            for file in state.files { file.remove() }
        }
    }

    /// Brings the value files back; updates resume.
    public func resumeAnswering() {
        state.withLock { state in
            state.answering = true
            try? writeValues(&state, sample: state.updates)
        }
    }

    /// One update, from the writer thread.
    func update() {
        state.withLock { state in
            if !state.stopped && state.answering { try? writeValues(&state, sample: state.updates) }
        }
    }

    /// The values for update number `sample` of `stage`, in the order of `State.files`.
    private func values(stage: Stage?, sample: Int) -> (Int64, Int64, Int64) {
        let watts = model.watts(at: stage, sample: sample)
        let milliwatts = watts * 1000
        let milliamps = supplyMillivolts > 0 ? milliwatts / supplyMillivolts * 1000 : 0
        switch interface {
        case .hwmon:
            return (Int64((watts * 1e6).rounded()), Int64(milliamps.rounded()), Int64(supplyMillivolts.rounded()))
        case .iio:
            return (
                Int64((milliwatts / Self.powerScaleMilliwatts).rounded()), Int64((milliamps / Self.currentScaleMilliamps).rounded()),
                Int64((supplyMillivolts / Self.voltageScaleMillivolts).rounded())
            )
        }
    }

    /// Writes the values for update number `sample` of the current stage.
    private func writeValues(_ state: inout State, sample: Int) throws(SetupError) {
        let (power, current, voltage) = values(stage: state.stage, sample: sample)
        try state.files[0].show(power)
        try state.files[1].show(current)
        try state.files[2].show(voltage)
        state.updates += 1
    }

    private func writeFixedFiles() throws(SetupError) {
        func replace(_ name: String, with text: String) throws(SetupError) {
            try Self.replace(directory + "/" + name, through: directory + "/." + name + ".new", with: text)
        }
        switch interface {
        case .hwmon:
            try replace("name", with: "ina226\n")
        case .iio:
            try replace("name", with: "ina226\n")
            try replace("in_power_scale", with: Self.decimal(Self.powerScaleMilliwatts))
            try replace("in_voltage_scale", with: Self.decimal(Self.voltageScaleMillivolts))
            try replace("in_current_scale", with: Self.decimal(Self.currentScaleMilliamps))
        }
    }

    /// A scale as the kernel prints it: nine decimals.
    private static func decimal(_ value: Double) -> String {
        let micro = Int64((value * 1e9).rounded())
        let fraction = String(micro % 1_000_000_000)
        return "\(micro / 1_000_000_000)." + String(repeating: "0", count: 9 - fraction.count) + fraction + "\n"
    }

    /// Replaces the file at `path` with `text` in one step, through a new file at `temporary`: a
    /// reader opens either the old file or the new one, each whole.
    private static func replace(_ path: String, through temporary: String, with text: String) throws(SetupError) {
        let bytes = Array(text.utf8)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SetupError(path: temporary, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard write(fd, bytes, bytes.count) == bytes.count else { throw SetupError(path: temporary, reason: "short write") }
        guard rename(temporary, path) == 0 else { throw SetupError(path: path, reason: String(cString: strerror(errno))) }
    }
}
