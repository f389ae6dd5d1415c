import FarmCore
import FarmDrivers
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A power meter for a simulated board: a folder laid out like an INA226's hwmon or IIO
/// directory, whose value files a writer thread keeps updating from a `BoardPowerModel` for the
/// board's current stage. `HwmonPowerMeter` and `IIOPowerMeter` read it like the real thing.
///
/// Every update writes a new file beside the old one, renames it over it and then empties the old
/// one, so a reader always sees a whole value and a reader still holding the old file finds it
/// empty and opens the path again (as `SensorAttributeFile` does); a value that did not change is
/// not rewritten. Folders on a tmpfs such as /dev/shm are much cheaper to update than on ext4,
/// where each replacing rename also flushes the new file's data.
public final class SimulatedPowerSensor: Sendable {
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

    private let state = Mutex(State())

    private struct State {
        var stage: Stage?
        var answering = true
        var updates = 0
        var running = false
        var stopRequested = false
        var finished: DispatchSemaphore?
        /// The last text written to each value file, so unchanged values are not rewritten.
        var written: [String: String] = [:]
        /// The file now at each value path, held open to empty it once it is replaced.
        var current: [String: Int32] = [:]
    }

    /// Lays out the sensor folder `folder/directoryName` (default `hwmon0` or `iio:device0`) with
    /// the board off (0 W). The writer starts with `start()`.
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
        directory = (folder as NSString).appendingPathComponent(name)
        self.model = model
        self.supplyMillivolts = supplyMillivolts
        self.updateRateHz = max(1, updateRateHz)
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw SetupError(path: directory, reason: "\(error)")
        }
        try writeFixedFiles()
        try state.withLock { state throws(SetupError) in try writeValues(&state, sample: 0) }
    }

    deinit {
        state.withLock { state in
            for fd in state.current.values { close(fd) }
        }
    }

    /// The files whose values change, by name.
    public var valueFileNames: [String] {
        switch interface {
        case .hwmon: ["power1_input", "curr1_input", "in1_input"]
        case .iio: ["in_power0_raw", "in_voltage0_raw", "in_current0_raw"]
        }
    }

    /// Starts the writer thread. Calling it again does nothing.
    public func start() {
        let finished = DispatchSemaphore(value: 0)
        let mustStart = state.withLock { state in
            guard !state.running && !state.stopRequested else { return false }
            state.running = true
            state.finished = finished
            return true
        }
        guard mustStart else { return }
        let period = Int64((1e9 / updateRateHz).rounded())
        // The thread holds the sensor weakly: a sensor dropped without `stop()` ends its writer.
        let thread = Thread { [weak self] in
            var deadline = BootClock.monotonicNanoseconds()
            while let sensor = self, sensor.update() {
                // Absolute deadlines: the update rate does not drift with the time writes take.
                deadline = max(deadline + period, BootClock.monotonicNanoseconds() - period)
                var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
                while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
            }
            finished.signal()
        }
        thread.name = "simulated power sensor"
        thread.start()
    }

    /// Stops the writer thread and waits for it to finish its last update. The files stay.
    public func stop() {
        if let finished = requestStop() { finished.wait() }
    }

    @discardableResult
    private func requestStop() -> DispatchSemaphore? {
        state.withLock { state in
            state.stopRequested = true
            defer { state.finished = nil }
            return state.running ? state.finished : nil
        }
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
            state.written = [:]
            for name in valueFileNames {
                unlink(path(name))
                if let fd = state.current.removeValue(forKey: name) {
                    _ = ftruncate(fd, 0)
                    close(fd)
                }
            }
        }
    }

    /// Brings the value files back; updates resume.
    public func resumeAnswering() {
        state.withLock { state in
            state.answering = true
            try? writeValues(&state, sample: state.updates)
        }
    }

    /// One update; false once a stop was requested.
    private func update() -> Bool {
        state.withLock { state in
            if state.stopRequested { return false }
            if state.answering { try? writeValues(&state, sample: state.updates) }
            return true
        }
    }

    /// Writes the values for update number `sample` of the current stage.
    private func writeValues(_ state: inout State, sample: Int) throws(SetupError) {
        let watts = model.watts(at: state.stage, sample: sample)
        let milliwatts = watts * 1000
        let milliamps = supplyMillivolts > 0 ? milliwatts / supplyMillivolts * 1000 : 0
        let values: [(String, Int64)]
        switch interface {
        case .hwmon:
            values = [
                ("power1_input", Int64((watts * 1e6).rounded())),
                ("curr1_input", Int64(milliamps.rounded())),
                ("in1_input", Int64(supplyMillivolts.rounded())),
            ]
        case .iio:
            values = [
                ("in_power0_raw", Int64((milliwatts / Self.powerScaleMilliwatts).rounded())),
                ("in_current0_raw", Int64((milliamps / Self.currentScaleMilliamps).rounded())),
                ("in_voltage0_raw", Int64((supplyMillivolts / Self.voltageScaleMillivolts).rounded())),
            ]
        }
        for (name, value) in values {
            let text = "\(value)\n"
            if state.written[name] == text { continue }
            let replaced = state.current[name]
            state.current[name] = try replace(name, with: text, keepOpen: true)
            if let replaced {
                _ = ftruncate(replaced, 0)
                close(replaced)
            }
            state.written[name] = text
        }
        state.updates += 1
    }

    private func writeFixedFiles() throws(SetupError) {
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

    private func path(_ name: String) -> String { directory + "/" + name }

    /// Replaces file `name` with `text` in one step: a reader opens either the old file or the
    /// new one, each whole. With `keepOpen`, returns the new file's descriptor (else -1).
    @discardableResult
    private func replace(_ name: String, with text: String, keepOpen: Bool = false) throws(SetupError) -> Int32 {
        let final = path(name)
        let temporary = path(".\(name).new")
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SetupError(path: temporary, reason: String(cString: strerror(errno))) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            close(fd)
            throw SetupError(path: temporary, reason: "short write")
        }
        guard rename(temporary, final) == 0 else {
            close(fd)
            throw SetupError(path: final, reason: String(cString: strerror(errno)))
        }
        if keepOpen { return fd }
        close(fd)
        return -1
    }
}
