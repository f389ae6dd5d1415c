import FarmDrivers
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An INA226 behind the `ina2xx-adc` IIO driver in buffered mode, for `IIOBufferedCapture`: a
/// folder laid out like the device's sysfs directory (`name`, `sampling_frequency`,
/// `current_timestamp_clock`, `buffer/`, `scan_elements/` with bus voltage 1, power 2, current 3
/// and the timestamp, and their scales) and a FIFO at `bufferDevice` standing in for
/// `/dev/iio:deviceN`.
///
/// While `buffer/enable` holds 1 and a reader has the FIFO open, the device takes one scan per
/// period, stamped with the monotonic time it was due, from `power` (watts at a monotonic time in
/// nanoseconds). Like the chip and the kernel's capture thread, it samples on its own timeline:
/// when its writing thread runs late it writes every scan it owes with its own time. Scans that
/// do not fit in the FIFO (the reader fell behind by more than it holds, about four seconds at
/// 1 kHz) are dropped, as an overflowing kernel buffer drops them, and counted in
/// `droppedScans`. The thread that updates every simulated device writes the scans owed every
/// 5 ms.
public final class SimulatedIIOBuffer: PeriodicDevice {
    /// The sysfs-like folder, to hand to `IIOBufferedCapture`.
    public let directory: String
    /// The FIFO standing in for the character device.
    public let bufferDevice: String
    public let rateHz: Double
    /// The supply voltage, in millivolts (current is power ÷ this).
    public let supplyMillivolts: Double
    private let power: @Sendable (Int64) -> Double
    private let state = Mutex(State())

    static let powerScaleMilliwatts = 0.5
    static let voltageScaleMillivolts = 1.25
    static let currentScaleMilliamps = 0.25
    /// `F_SETPIPE_SZ` (Linux), which Glibc's module does not export.
    static let setPipeSize: Int32 = 1031
    /// Bytes per scan: three 16-bit channels, padding, a 64-bit timestamp.
    static let scanBytes = 16

    private struct State {
        var fd: Int32 = -1
        /// The monotonic time of the next scan owed.
        var next: Int64 = 0
        var dropped = 0
        var stopped = false
        /// A scan cut short by a full FIFO, finished before any other.
        var pending: [UInt8] = []
        /// Updates so far; the enable file is read every 20th (10 times a second).
        var updates = 0
    }

    /// Lays out the device in `parent/name` with its FIFO at `bufferDevice` (default
    /// `parent/name.buffer`).
    public init(
        in parent: String, name: String, bufferDevice: String? = nil, rateHz: Double = 1000, supplyMillivolts: Double = 5000,
        power: @escaping @Sendable (Int64) -> Double
    ) throws(SimulatedPowerSensor.SetupError) {
        directory = (parent as NSString).appendingPathComponent(name)
        self.bufferDevice = bufferDevice ?? directory + ".buffer"
        self.rateHz = rateHz
        self.supplyMillivolts = supplyMillivolts
        self.power = power
        let files: [(String, String)] = [
            ("name", "ina226"), ("sampling_frequency", "\(Int(rateHz))"), ("current_timestamp_clock", "realtime"),
            ("buffer/enable", "0"), ("buffer/length", "1024"),
            ("in_power_scale", "\(Self.powerScaleMilliwatts)"), ("in_voltage_scale", "\(Self.voltageScaleMillivolts)"),
            ("in_current_scale", "\(Self.currentScaleMilliamps)"),
            ("scan_elements/in_voltage1_en", "0"), ("scan_elements/in_voltage1_index", "1"),
            ("scan_elements/in_voltage1_type", "le:u16/16>>0"),
            ("scan_elements/in_power2_en", "0"), ("scan_elements/in_power2_index", "2"), ("scan_elements/in_power2_type", "le:u16/16>>0"),
            ("scan_elements/in_current3_en", "0"), ("scan_elements/in_current3_index", "3"),
            ("scan_elements/in_current3_type", "le:s16/16>>0"),
            ("scan_elements/in_timestamp_en", "0"), ("scan_elements/in_timestamp_index", "4"),
            ("scan_elements/in_timestamp_type", "le:s64/64>>0"),
        ]
        for folder in ["", "/buffer", "/scan_elements"] {
            do {
                try FileManager.default.createDirectory(atPath: directory + folder, withIntermediateDirectories: true)
            } catch {
                throw .init(path: directory + folder, reason: error.localizedDescription)
            }
        }
        for (file, value) in files {
            let path = directory + "/" + file
            do {
                try (value + "\n").write(toFile: path, atomically: false, encoding: .utf8)
            } catch {
                throw .init(path: path, reason: error.localizedDescription)
            }
        }
        let fifo = self.bufferDevice
        unlink(fifo)
        guard mkfifo(fifo, 0o600) == 0 else { throw .init(path: fifo, reason: String(cString: strerror(errno))) }
        // Holding the FIFO open for reading too keeps writes from failing before the capture opens it.
        let fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw .init(path: fifo, reason: String(cString: strerror(errno))) }
        // The largest FIFO an unprivileged process may ask for (1 MiB by default): ~65 s at 1 kHz.
        _ = fcntl(fd, Self.setPipeSize, 1 << 20)
        state.withLock { $0.fd = fd }
    }

    deinit { stop() }

    /// Scans dropped because the FIFO was full.
    public var droppedScans: Int { state.withLock { $0.dropped } }

    /// How often the writer thread writes the scans owed.
    static let writePeriodNanoseconds: Int64 = 5_000_000

    /// Starts the device (its scans flow while `buffer/enable` holds 1).
    public func start() { SimulatedDeviceWriter.shared.register(self, periodNanoseconds: Self.writePeriodNanoseconds) }

    /// Stops the device and removes its FIFO.
    public func stop() {
        let fd = state.withLock { state -> Int32 in
            guard !state.stopped else { return -1 }
            state.stopped = true
            let fd = state.fd
            state.fd = -1
            return fd
        }
        guard fd >= 0 else { return }
        SimulatedDeviceWriter.shared.unregister(self)
        close(fd)
        unlink(bufferDevice)
    }

    /// CPU time of the thread that updates every simulated device, in seconds (the same thread
    /// as `SimulatedPowerSensor.writerCPUSeconds`).
    public static var writerCPUSeconds: Double { SimulatedDeviceWriter.shared.cpuSeconds }

    /// One update, from the writer thread: the scans owed up to now.
    func update() {
        let checkEnable = state.withLock { state -> Bool in
            defer { state.updates += 1 }
            return state.updates % 20 == 0
        }
        catchUp(now: BootClock.monotonicNanoseconds(), checkEnable: checkEnable)
    }

    private var enabled: Bool {
        (try? String(contentsOfFile: directory + "/buffer/enable", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            == "1"
    }

    /// Writes every scan owed up to `now` (monotonic nanoseconds); `checkEnable` reads the
    /// enable file (done a few times a second, not every update).
    private func catchUp(now: Int64, checkEnable: Bool) {
        if checkEnable {
            let on = enabled
            state.withLock { state in
                if !on {
                    // Disabling a kernel buffer empties it: the next capture starts afresh.
                    if state.next != 0, state.fd >= 0 {
                        var sink = [UInt8](repeating: 0, count: 65536)
                        while sink.withUnsafeMutableBytes({ read(state.fd, $0.baseAddress, $0.count) }) > 0 {}
                    }
                    state.next = 0
                    state.pending = []
                } else if state.next == 0 {
                    state.next = now
                }
            }
        }
        let period = Int64((1e9 / rateHz).rounded())
        state.withLock { state in
            guard state.fd >= 0, state.next > 0 else { return }
            var bytes: [UInt8] = state.pending
            // Where whole scans begin in `bytes`: after the rest of a scan cut last time.
            let firstScan = state.pending.count
            state.pending = []
            var due = state.next
            while due <= now {
                appendScan(at: due, to: &bytes)
                due += period
            }
            state.next = due
            guard !bytes.isEmpty else { return }
            let written = bytes.withUnsafeBytes { write(state.fd, $0.baseAddress, $0.count) }
            let taken = max(0, written)
            // A scan cut in the middle is finished first next time; whole scans that did not fit
            // are dropped, as a full kernel buffer drops them.
            let cutEnd =
                taken < firstScan
                ? firstScan : taken + (Self.scanBytes - (taken - firstScan) % Self.scanBytes) % Self.scanBytes
            state.pending = Array(bytes[taken..<cutEnd])
            state.dropped += (bytes.count - cutEnd) / Self.scanBytes
        }
    }

    private func appendScan(at time: Int64, to bytes: inout [UInt8]) {
        let watts = power(time)
        let milliwatts = watts * 1000
        let current = milliwatts / supplyMillivolts * 1000
        func le16(_ value: Int) {
            let clamped = UInt16(truncatingIfNeeded: value)
            bytes.append(UInt8(clamped & 0xFF))
            bytes.append(UInt8(clamped >> 8))
        }
        le16(Int((supplyMillivolts / Self.voltageScaleMillivolts).rounded()))
        le16(Int((milliwatts / Self.powerScaleMilliwatts).rounded()))
        le16(Int((current / Self.currentScaleMilliamps).rounded()))
        bytes.append(contentsOf: [0, 0])
        withUnsafeBytes(of: time.littleEndian) { bytes.append(contentsOf: $0) }
    }
}
