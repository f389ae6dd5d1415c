import FarmCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Power samples the kernel takes: an IIO device in buffered mode. The driver (`ina2xx-adc` on
/// an ACME probe) samples on a kernel thread at its own rate and queues each scan, stamped by the
/// kernel, in a buffer that this reads from the device's character device in blocks. A reader
/// that runs late, or a machine that stalls, loses nothing while the buffer holds: every scan
/// keeps the time it was taken. This is how a lab samples many meters at 1 kHz without losing
/// samples; polling sysfs (`PowerSampler`) misses the ticks in which it cannot run.
///
/// Setting up writes the device's sysfs files: the power channel (and voltage and current, where
/// the device has them) and the timestamp are enabled in `scan_elements/`, the timestamps are
/// put on the monotonic clock (`current_timestamp_clock`), `buffer/length` is raised, and
/// `buffer/enable` is set while capturing. Values are `(raw + offset) × scale` as for
/// `IIOPowerMeter`. Samples missing between two scans (a gap of more than one and a half
/// periods, at `sampling_frequency` when the device gives it) are counted as lost.
public final class IIOBufferedCapture: PowerRecorder, CustomStringConvertible {
    /// The device's sysfs directory, such as `/sys/bus/iio/devices/iio:device0`.
    public let directory: String
    /// The character device the scans are read from (`/dev/iio:device0`).
    public let bufferDevice: String
    /// The scan layout of the enabled channels.
    public let layout: IIOScanLayout
    /// The sampling period the device reports (or was given), in nanoseconds.
    public let periodNanoseconds: Int64
    /// How long the reader waits after taking what arrived, to let scans gather: the device
    /// queues seconds of them, so a read every few milliseconds costs little and loses nothing.
    public let readIntervalMilliseconds: Int
    private let clock: BootClock
    private let conversions: Conversions
    private let cpuNanoseconds = Atomic<Int64>(0)
    /// The thread that reads this capture's device along with others; nil: one of its own.
    public let reader: IIOBufferReader?
    private let reading = Mutex(Reading())

    /// What the reading thread keeps between reads.
    private struct Reading {
        var buffer: [UInt8] = []
        var filled = 0
        /// Monotonic time minus boot-clock time: turns kernel stamps into the boot's timeline.
        var origin: Int64?
        var lastTimestamp: Int64?
        /// Scans stamped before this were queued before the capture started.
        var since: Int64 = 0
    }
    private let state = Mutex(State())
    private let done = DispatchSemaphore(value: 0)

    private struct Conversions: Sendable {
        var power: Conversion?
        var voltage: Conversion?
        var current: Conversion?
        var timestamp: IIOScanChannel
    }

    /// A channel in the scan and how its raw value becomes mW, mV or mA.
    private struct Conversion: Sendable {
        let channel: IIOScanChannel
        let offset: Double
        let scale: Double

        func value(in scan: UnsafeRawBufferPointer) -> Double { (Double(channel.value(in: scan)) + offset) * scale }
    }

    private struct State {
        var samples: [PowerSample] = []
        var lost = 0
        var stopping = false
        var started = false
        var errors: [String] = []
        var result: PowerSamplingResult?
    }

    /// Prepares capturing from the IIO device in `directory` for a boot stamped by `clock`.
    ///
    /// - Parameters:
    ///   - bufferDevice: the character device; default `/dev/` and the directory's last component.
    ///   - powerChannel, voltageChannel, currentChannel: channel numbers (`ina2xx-adc`: bus voltage
    ///     1, power 2, current 3); voltage and current are captured where the device has them.
    ///   - rateHz: the sampling rate, used only where the device has no `sampling_frequency` file.
    ///   - readIntervalMilliseconds: how often its own thread reads (a shared `reader` has its own).
    ///   - reader: a thread that reads many captures' devices; nil gives the capture one of its own.
    /// - Throws: `PowerMeterError` naming the file that is missing or holds something unexpected.
    public init(
        directory: String, bufferDevice: String? = nil, powerChannel: Int = 2, voltageChannel: Int = 1, currentChannel: Int = 3,
        rateHz: Double = 1000, readIntervalMilliseconds: Int = 10, reader: IIOBufferReader? = nil, clock: BootClock
    ) throws(PowerMeterError) {
        guard SensorAttributeFile.isDirectory(directory) else { throw .missingDirectory(path: directory) }
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        func path(_ name: String) -> String { base + "/" + name }
        func text(_ name: String) throws(PowerMeterError) -> String {
            try SensorAttributeFile(path: path(name), expected: name).readText()
        }
        func write(_ value: String, to name: String) throws(PowerMeterError) {
            do {
                try (value + "\n").write(toFile: path(name), atomically: false, encoding: .utf8)
            } catch {
                throw .unreadable(path: path(name), reason: "cannot write \(value): \(error.localizedDescription)")
            }
        }
        let expected = "scan_elements/in_power\(powerChannel)_en (an IIO device with a buffer)"
        guard SensorAttributeFile.exists(path("scan_elements/in_power\(powerChannel)_en")) else {
            throw .missingFile(path: path("scan_elements/in_power\(powerChannel)_en"), expected: expected)
        }
        guard SensorAttributeFile.exists(path("buffer/enable")) else {
            throw .missingFile(path: path("buffer/enable"), expected: "buffer/enable (an IIO device with a buffer)")
        }
        // A capture left running (a crashed agent) must stop before channels can change.
        try write("0", to: "buffer/enable")
        var channels: [IIOScanChannel] = []
        /// Enables channel `name` where the device has it and notes where it sits in a scan.
        func enable(_ name: String) throws(PowerMeterError) {
            guard SensorAttributeFile.exists(path("scan_elements/in_\(name)_en")) else { return }
            try write("1", to: "scan_elements/in_\(name)_en")
            let indexText = try text("scan_elements/in_\(name)_index")
            let typeText = try text("scan_elements/in_\(name)_type")
            guard let index = Int(indexText.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw .malformedValue(path: path("scan_elements/in_\(name)_index"), text: indexText)
            }
            guard let channel = IIOScanChannel(name: name, index: index, type: typeText) else {
                throw .malformedValue(path: path("scan_elements/in_\(name)_type"), text: typeText)
            }
            channels.append(channel)
        }
        for name in ["power\(powerChannel)", "voltage\(voltageChannel)", "current\(currentChannel)", "timestamp"] { try enable(name) }
        if SensorAttributeFile.exists(path("current_timestamp_clock")) { try write("monotonic", to: "current_timestamp_clock") }
        if SensorAttributeFile.exists(path("buffer/length")) { try write("4096", to: "buffer/length") }
        let layout = IIOScanLayout(channels)
        guard let timestamp = layout.channel("timestamp") else {
            throw .missingFile(path: path("scan_elements/in_timestamp_en"), expected: "a timestamp channel")
        }
        func conversion(_ type: String, _ number: Int) throws(PowerMeterError) -> Conversion? {
            guard let channel = layout.channel("\(type)\(number)") else { return nil }
            return Conversion(
                channel: channel, offset: try IIOPowerMeter.channelAttribute("offset", type: type, number: number, in: base, default: 0),
                scale: try IIOPowerMeter.channelAttribute("scale", type: type, number: number, in: base, default: 1))
        }
        let conversions = Conversions(
            power: try conversion("power", powerChannel), voltage: try conversion("voltage", voltageChannel),
            current: try conversion("current", currentChannel), timestamp: timestamp)
        var frequency = rateHz
        for name in ["sampling_frequency", "in_sampling_frequency"] where SensorAttributeFile.exists(path(name)) {
            frequency = try SensorAttributeFile(path: path(name), expected: name).readDecimal()
            break
        }
        guard frequency > 0 else { throw .invalidRate(rateHz: frequency, allowed: 1...100_000) }
        self.layout = layout
        self.directory = base
        self.bufferDevice = bufferDevice ?? "/dev/" + (base as NSString).lastPathComponent
        periodNanoseconds = Int64((1e9 / frequency).rounded())
        self.clock = clock
        self.conversions = conversions
        self.readIntervalMilliseconds = max(0, readIntervalMilliseconds)
        self.reader = reader
    }

    public var description: String { "iio buffer \(bufferDevice)" }

    /// CPU time of its own reading thread so far, in seconds (0 when it shares a reader).
    public var cpuSeconds: Double { Double(cpuNanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Enables the buffer and starts reading it: on `reader`'s thread when the capture has one,
    /// else on a thread of its own. A device that cannot be started is a warning and a meter
    /// error in the result, not a failed boot.
    public func start() {
        let enablePath = directory + "/buffer/enable"
        do {
            try "1\n".write(toFile: enablePath, atomically: false, encoding: .utf8)
        } catch {
            let reason = "cannot enable the buffer (\(enablePath)): \(error.localizedDescription)"
            state.withLock { $0.errors.append("power meter \(self): \(reason)") }
            return
        }
        let fd = open(bufferDevice, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            state.withLock { $0.errors.append("power meter \(self): cannot open \(bufferDevice): \(reason)") }
            return
        }
        state.withLock { $0.started = true }
        reading.withLock { reading in
            reading.since = BootClock.monotonicNanoseconds() - periodNanoseconds
            reading.buffer = [UInt8](repeating: 0, count: max(layout.size, 65536 / max(layout.size, 1) * layout.size))
        }
        if let reader {
            reader.attach(self, descriptor: fd)
            return
        }
        let thread = Thread { [self] in
            while !state.withLock({ $0.stopping }) {
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 20) > 0 else { continue }
                guard drain(fd) else { break }
                cpuNanoseconds.store(BootClock.threadCPUNanoseconds(), ordering: .relaxed)
                if readIntervalMilliseconds > 0 { usleep(UInt32(readIntervalMilliseconds * 1000)) }
            }
            close(fd)
            done.signal()
        }
        thread.name = "power \(bufferDevice)"
        thread.start()
    }

    /// Stops capturing (within about 20 ms), disables the buffer and returns what was captured.
    public func stop() -> PowerSamplingResult {
        let started = state.withLock { state in
            state.stopping = true
            return state.started
        }
        if started {
            if let reader {
                // What is queued is taken first: the device kept sampling until now.
                reader.detach(self, finalDrain: true)
            } else {
                _ = done.wait(timeout: .now() + 2)
            }
        }
        try? "0\n".write(toFile: directory + "/buffer/enable", atomically: false, encoding: .utf8)
        return state.withLock { state in
            if let result = state.result { return result }
            var trace = PowerTrace()
            for sample in state.samples { try? trace.append(sample) }
            var warnings = state.errors
            if state.lost > 0 {
                warnings.append("power meter \(self): \(state.lost) samples missing between scans (the device's buffer overflowed)")
            }
            let result = PowerSamplingResult(trace: trace, lostSamples: state.lost, meterErrors: state.errors.count, warnings: warnings)
            state.result = result
            state.samples = []
            return result
        }
    }

    /// Takes every whole scan the device has queued (reading until it has no more), keeping a
    /// partial one for next time. Scans stamped before the capture started (left from an
    /// earlier one) are skipped. Returns false when the device cannot be read any more.
    func drain(_ fd: Int32) -> Bool {
        reading.withLock { reading -> Bool in
            let size = layout.size
            while true {
                let filled = reading.filled
                let count = reading.buffer.withUnsafeMutableBytes { bytes in
                    bytes.baseAddress.map { Glibc.read(fd, $0 + filled, bytes.count - filled) } ?? -1
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN { return true }
                    let reason = String(cString: strerror(errno))
                    state.withLock { $0.errors.append("power meter \(self): read failed: \(reason)") }
                    return false
                }
                // A FIFO whose writer closed reads end-of-file until one opens it again.
                if count == 0 { return true }
                reading.filled += count
                decode(&reading, size: size)
            }
        }
    }

    /// Decodes the whole scans in `reading`'s buffer into samples.
    private func decode(_ reading: inout Reading, size: Int) {
        let whole = reading.filled / size * size
        if reading.origin == nil { reading.origin = BootClock.monotonicNanoseconds() - clock.nanoseconds }
        let origin = reading.origin ?? 0
        let since = reading.since
        var decoded: [PowerSample] = []
        decoded.reserveCapacity(whole / size)
        var lost = 0
        var last = reading.lastTimestamp
        reading.buffer.withUnsafeBytes { bytes in
            var offset = 0
            while offset < whole {
                let scan = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + size)])
                offset += size
                let stamp = conversions.timestamp.value(in: scan)
                guard stamp >= since else { continue }
                if let previous = last, stamp - previous > periodNanoseconds * 3 / 2 {
                    lost += Int((Double(stamp - previous) / Double(periodNanoseconds)).rounded()) - 1
                }
                last = stamp
                let time = stamp - origin
                guard time >= 0 else { continue }
                decoded.append(sample(scan, at: time))
            }
        }
        let rest = reading.filled - whole
        if rest > 0 {
            reading.buffer.withUnsafeMutableBytes { bytes in
                if let base = bytes.baseAddress { memmove(base, base + whole, rest) }
            }
        }
        reading.filled = rest
        reading.lastTimestamp = last
        state.withLock { state in
            state.samples += decoded
            state.lost += lost
        }
    }

    private func sample(_ scan: UnsafeRawBufferPointer, at time: Int64) -> PowerSample {
        let voltage = conversions.voltage?.value(in: scan)
        let current = conversions.current?.value(in: scan)
        let milliwatts = conversions.power?.value(in: scan) ?? (voltage ?? 0) * (current ?? 0) / 1000
        let microwatts = (milliwatts * 1000).rounded()
        // Int64(_:) traps on values out of its range; a scale file could make one.
        return PowerSample(
            timeNanoseconds: time, powerMicrowatts: microwatts.isFinite && abs(microwatts) < 9.2e18 ? Int64(microwatts) : 0,
            voltageMillivolts: voltage, currentMilliamps: current)
    }
}
