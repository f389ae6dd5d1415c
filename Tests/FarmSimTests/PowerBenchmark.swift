import FarmCore
import FarmSim
import Foundation
import Synchronization
import Testing

@testable import FarmDrivers

#if canImport(Glibc)
    import Glibc
#endif

/// The cost of sampling many power meters at 1 kHz while consoles stream: run by `bench/power`,
/// which sets `BOOTFARM_BENCH_POWER=1` and reads the `POWER-BENCH` line this prints.
///
/// Settings (environment, defaults in brackets): `BOOTFARM_BENCH_POWER_METERS` [64],
/// `_RATE_HZ` [1000], `_SECONDS` [30], `_CONSOLES` [64], `_BAUD` [115200], `_SENSOR_HZ` [20]
/// (how often the simulated sensors change their files), `_THREADS` [shared: one
/// `PowerSamplingThread` for all meters; dedicated: one each], `_STANDBY` [yes: the sampling
/// threads' standby runs; no], `_CHANNELS` [all: power every sample, voltage and current at
/// `_VOLTAGE_CURRENT_HZ`; power: meters that never read voltage and current],
/// `_VOLTAGE_CURRENT_HZ` [the sampler's default, 100], `_PROBE` [yes: run `StallProbe` beside
/// the sampling; no], `_MODE` [poll: `PowerSampler`s reading hwmon files; buffer: IIO devices
/// in buffered mode, read by `IIOBufferedCapture`], `_READ_MS` [10: how often a capture reads].
///
/// The sampling CPU it reports is the sampling threads' (main and standby) plus the thread that
/// updates the simulated sensors' files, which runs in this process too; the whole process's
/// (console feeder and readers included) is reported beside it.
@Suite("Power benchmark")
struct PowerBenchmark {
    static let environment = ProcessInfo.processInfo.environment
    static let enabled = environment["BOOTFARM_BENCH_POWER"] == "1" && environment["BOOTFARM_BENCH_POWER_MODE"] != "buffer"
    static let bufferEnabled = environment["BOOTFARM_BENCH_POWER"] == "1" && environment["BOOTFARM_BENCH_POWER_MODE"] == "buffer"

    static func setting(_ name: String, _ fallback: Double) -> Double {
        environment["BOOTFARM_BENCH_POWER_\(name)"].flatMap(Double.init) ?? fallback
    }

    /// The load both modes run: meters, their rate, seconds, consoles, baud, and whether the
    /// stall probe runs.
    static var load: (meters: Int, rateHz: Double, seconds: Double, consoles: Int, baud: Int, probing: Bool) {
        (
            Int(setting("METERS", 64)), setting("RATE_HZ", 1000), setting("SECONDS", 30), Int(setting("CONSOLES", 64)),
            Int(setting("BAUD", 115_200)), environment["BOOTFARM_BENCH_POWER_PROBE"] != "no"
        )
    }

    @Test(.enabled(if: enabled, "power benchmark: set BOOTFARM_BENCH_POWER=1 to run it (bench/power does)"))
    func sixtyFourMetersAtOneKilohertzWhileConsolesStream() async throws {
        let (meterCount, rateHz, seconds, consoleCount, baud, probing) = Self.load
        let sensorHz = Self.setting("SENSOR_HZ", 20)
        let dedicated = Self.environment["BOOTFARM_BENCH_POWER_THREADS"] == "dedicated"
        let powerOnly = Self.environment["BOOTFARM_BENCH_POWER_CHANNELS"] == "power"
        let standby = Self.environment["BOOTFARM_BENCH_POWER_STANDBY"] != "no"
        let voltageAndCurrentHz = Self.setting("VOLTAGE_CURRENT_HZ", PowerSampler.defaultVoltageAndCurrentRateHz)

        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let folder = (base as NSString).appendingPathComponent("bootfarm-power-bench-\(getpid())")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }

        // Simulated INA226 meters, each following its own board through the boot stages.
        let sensors = try (0..<meterCount).map { index in
            try SimulatedPowerSensor(interface: .hwmon, in: folder, directoryName: "hwmon\(index)", updateRateHz: sensorHz)
        }
        let stages: [Stage?] = [nil, .power, .bootloader, .kernel, .userspace, .prompt]
        for (index, sensor) in sensors.enumerated() {
            sensor.setStage(stages[index % stages.count])
            sensor.start()
        }
        defer { for sensor in sensors { sensor.stop() } }

        // Consoles on PTYs, fed at the line rate by one thread.
        let clock = BootClock()
        clock.start()
        let streaming = try await StreamingConsoles(count: consoleCount, baud: baud, clock: clock)

        let shared = PowerSamplingThread(name: "power bench", standby: standby)
        // Dedicated threads run at normal priority: 64 real-time threads waking 1000 times a second
        // could take the machine from everything else.
        let threads =
            dedicated
            ? (0..<meterCount).map { PowerSamplingThread(name: "power \($0)", realtimePriority: nil, standby: standby) } : [shared]
        let samplers = try sensors.enumerated().map { index, sensor in
            try PowerSampler(
                meter: try HwmonPowerMeter(directory: sensor.directory, readsVoltageAndCurrent: !powerOnly), clock: clock, rateHz: rateHz,
                voltageAndCurrentRateHz: voltageAndCurrentHz, thread: dedicated ? threads[index] : shared)
        }

        let loadAverage = Self.loadAverage()
        let usageBefore = Self.processCPUSeconds()
        let sensorsBefore = SimulatedPowerSensor.writerCPUSeconds
        let probe = StallProbe()
        if probing { probe.start() }
        let wallBefore = BootClock.monotonicNanoseconds()
        for sampler in samplers { sampler.start() }
        var elapsed = 0.0
        while elapsed < seconds {
            try await Task.sleep(for: .milliseconds(500))
            elapsed = Double(BootClock.monotonicNanoseconds() - wallBefore) / 1e9
            // Boards move on through their boots now and then.
            if Int(elapsed * 2) % 6 == 0 {
                for (index, sensor) in sensors.enumerated() { sensor.setStage(stages[(index + Int(elapsed)) % stages.count]) }
            }
        }
        let results = samplers.map { $0.stop() }
        if probing { probe.stop() }
        let wallSeconds = Double(BootClock.monotonicNanoseconds() - wallBefore) / 1e9
        let processSeconds = Self.processCPUSeconds() - usageBefore
        let sensorSeconds = SimulatedPowerSensor.writerCPUSeconds - sensorsBefore
        let loadAverageAfter = Self.loadAverage()
        // The sampling threads end within a period of the last stop; their CPU counter is
        // updated every wake-up, so what is left uncounted is at most one tick's work.
        let samplerSeconds = threads.reduce(0) { $0 + $1.cpuSeconds }
        let received = await streaming.finish()

        let samples = results.reduce(0) { $0 + $1.trace.count }
        let lost = results.reduce(0) { $0 + $1.lostSamples }
        let errors = results.reduce(0) { $0 + $1.meterErrors }
        let rates = results.map { Double($0.trace.count) / max($0.trace.durationSeconds, 1e-9) }
        // Every tick from a sampler's first reading to its last is either a sample or lost: the
        // ticks neither counted are a check on the lost count. Readings are stamped when they
        // were taken, not on their tick, which makes the span of ticks uncertain by one.
        let unaccounted = results.reduce(0) { total, result in
            let ticks = Int((result.trace.durationSeconds * rateHz).rounded()) + 1
            return total + max(0, abs(ticks - result.trace.count - result.lostSamples) - 1)
        }
        let withVoltage = results.reduce(0) { total, result in total + result.trace.filter { $0.voltageMicrovolts != nil }.count }
        let meanRate = rates.reduce(0, +) / Double(max(rates.count, 1))
        let figures: [(String, String)] = [
            ("meters", "\(meterCount)"), ("rate_hz", "\(rateHz)"), ("seconds", String(format: "%.1f", wallSeconds)),
            ("threads", dedicated ? "dedicated" : "shared"), ("standby", threads.allSatisfy(\.hasStandby) ? "yes" : "no"),
            ("channels", powerOnly ? "power" : "all"), ("voltage_current_hz", powerOnly ? "0" : "\(min(voltageAndCurrentHz, rateHz))"),
            ("realtime", threads.allSatisfy(\.isRealtime) ? "yes" : "no"),
            ("samples", "\(samples)"), ("samples_with_voltage", "\(withVoltage)"),
            ("achieved_hz_per_meter", String(format: "%.1f", meanRate)),
            ("min_hz_per_meter", String(format: "%.1f", rates.min() ?? 0)), ("lost", "\(lost)"), ("unaccounted_ticks", "\(unaccounted)"),
            ("meter_errors", "\(errors)"),
            ("sampler_cpu_percent", String(format: "%.2f", samplerSeconds / wallSeconds * 100)),
            ("sensors_cpu_percent", String(format: "%.2f", sensorSeconds / wallSeconds * 100)),
            ("sampling_cpu_percent", String(format: "%.2f", (samplerSeconds + sensorSeconds) / wallSeconds * 100)),
            ("process_cpu_percent", String(format: "%.2f", processSeconds / wallSeconds * 100)),
            ("probe", probing ? "yes" : "no"), ("machine_stall_ticks", probing ? "\(probe.stalledTicks)" : "?"),
            ("probe_cpu_percent", String(format: "%.2f", probe.cpuSeconds / wallSeconds * 100)),
            ("consoles", "\(consoleCount)"), ("console_bytes_sent", "\(streaming.feeder.bytesSent)"),
            ("console_bytes_received", "\(received)"),
            ("sensor_updates_hz", "\(sensorHz)"), ("load_average_before", "\(loadAverage)"),
            ("load_average_after", "\(loadAverageAfter)"),
        ]
        print("POWER-BENCH " + figures.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        #expect(samples > 0)
        #expect(errors == 0)
        #expect(Double(received) >= Double(streaming.feeder.bytesSent) * 0.95)
    }

    /// The same load with the meters read through their IIO buffers: each simulated INA226
    /// samples on its own timeline and queues stamped scans, and one `IIOBufferedCapture` per
    /// meter, all read by one `IIOBufferReader` thread, takes them in blocks. Lost samples are
    /// gaps between the stamps of the scans read plus scans the devices dropped because their
    /// buffers were full.
    @Test(.enabled(if: bufferEnabled, "power benchmark, buffer mode: set BOOTFARM_BENCH_POWER=1 and _MODE=buffer"))
    func sixtyFourBufferedMetersAtOneKilohertzWhileConsolesStream() async throws {
        let (meterCount, rateHz, seconds, consoleCount, baud, probing) = Self.load
        let readMilliseconds = Int(Self.setting("READ_MS", 10))

        let folder = "/dev/shm/bootfarm-power-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let model = BoardPowerModel()
        let stages: [Stage?] = [nil, .power, .bootloader, .kernel, .userspace, .prompt]
        let devices = try (0..<meterCount).map { index in
            try SimulatedIIOBuffer(in: folder, name: "iio:device\(index)", rateHz: rateHz) { time in
                // Each board moves on to its next stage every three seconds.
                let step = Int(time / 3_000_000_000)
                return model.watts(at: stages[(index + step) % stages.count], sample: Int(time / 1_000_000))
            }
        }
        for device in devices { device.start() }
        defer { for device in devices { device.stop() } }

        let clock = BootClock()
        clock.start()
        let streaming = try await StreamingConsoles(count: consoleCount, baud: baud, clock: clock)
        // One reading thread for all the meters, as an agent has.
        let reader = IIOBufferReader(name: "power bench buffers", intervalMilliseconds: readMilliseconds)
        let captures = try devices.map { device in
            try IIOBufferedCapture(
                directory: device.directory, bufferDevice: device.bufferDevice, rateHz: rateHz, reader: reader, clock: clock)
        }

        let loadAverage = Self.loadAverage()
        let usageBefore = Self.processCPUSeconds()
        let writerBefore = SimulatedIIOBuffer.writerCPUSeconds
        let probe = StallProbe()
        if probing { probe.start() }
        let wallBefore = BootClock.monotonicNanoseconds()
        for capture in captures { capture.start() }
        try await Task.sleep(for: .seconds(seconds))
        let results = captures.map { $0.stop() }
        let readerSeconds = reader.cpuSeconds
        if probing { probe.stop() }
        let wallSeconds = Double(BootClock.monotonicNanoseconds() - wallBefore) / 1e9
        let processSeconds = Self.processCPUSeconds() - usageBefore
        let writerSeconds = SimulatedIIOBuffer.writerCPUSeconds - writerBefore
        let loadAverageAfter = Self.loadAverage()
        let received = await streaming.finish()

        let samples = results.reduce(0) { $0 + $1.trace.count }
        let gaps = results.reduce(0) { $0 + $1.lostSamples }
        let dropped = devices.reduce(0) { $0 + $1.droppedScans }
        let errors = results.reduce(0) { $0 + $1.meterErrors }
        let rates = results.map { Double($0.trace.count) / max($0.trace.durationSeconds, 1e-9) }
        let meanRate = rates.reduce(0, +) / Double(max(rates.count, 1))
        let figures: [(String, String)] = [
            ("mode", "buffer"), ("meters", "\(meterCount)"), ("rate_hz", "\(rateHz)"), ("seconds", String(format: "%.1f", wallSeconds)),
            ("read_interval_ms", "\(readMilliseconds)"), ("samples", "\(samples)"),
            ("achieved_hz_per_meter", String(format: "%.1f", meanRate)), ("min_hz_per_meter", String(format: "%.1f", rates.min() ?? 0)),
            ("lost", "\(gaps + dropped)"), ("gaps", "\(gaps)"), ("dropped", "\(dropped)"), ("meter_errors", "\(errors)"),
            ("reader_cpu_percent", String(format: "%.2f", readerSeconds / wallSeconds * 100)),
            ("devices_cpu_percent", String(format: "%.2f", writerSeconds / wallSeconds * 100)),
            ("process_cpu_percent", String(format: "%.2f", processSeconds / wallSeconds * 100)),
            ("probe", probing ? "yes" : "no"), ("machine_stall_ticks", probing ? "\(probe.stalledTicks)" : "?"),
            ("consoles", "\(consoleCount)"), ("console_bytes_sent", "\(streaming.feeder.bytesSent)"),
            ("console_bytes_received", "\(received)"),
            ("load_average_before", "\(loadAverage)"), ("load_average_after", "\(loadAverageAfter)"),
        ]
        print("POWER-BENCH " + figures.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        #expect(samples > 0)
        #expect(errors == 0)
        #expect(Double(received) >= Double(streaming.feeder.bytesSent) * 0.95)
    }

    /// The one-minute load average, as /proc/loadavg gives it.
    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first.map(String.init) ?? "?"
    }

    /// User plus system CPU time of the whole process, in seconds.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// PTY consoles fed at the line rate by one thread and read by `StreamConsole`: the load the
/// meters are read under.
private struct StreamingConsoles {
    let feeder: ConsoleFeeder
    let consoles: [StreamConsole]

    init(count: Int, baud: Int, clock: BootClock) async throws {
        feeder = try ConsoleFeeder(count: count, bytesPerSecond: Double(baud) / 10)
        var consoles: [StreamConsole] = []
        for path in feeder.paths {
            let console = StreamConsole(endpoint: .serial(path: path, baud: baud))
            try await console.open(clock: clock)
            consoles.append(console)
        }
        self.consoles = consoles
        feeder.start()
    }

    /// Stops feeding, closes the consoles and returns the bytes they received.
    func finish() async -> Int {
        feeder.stop()
        var received = 0
        for console in consoles {
            received += console.transcript.bytes.count
            await console.close()
        }
        return received
    }
}

/// Two idle real-time threads, on two processors, that wake at every tick of a 1 kHz grid (one
/// on the tick, one half a period after it). A tick neither of them woke in before the next one
/// is a tick in which both processors stalled at once (the host of a virtual machine running
/// something else), in which no sampling thread could have read a meter either: each such tick
/// costs every meter sampled at 1 kHz one sample, whatever the sampler does.
///
/// They run at a lower real-time priority (5) than the sampling threads (10), so they never hold
/// them up; the sampling threads' work (well under a millisecond a tick) delays them less than a
/// period.
private final class StallProbe: Sendable {
    private let claimedTick = Atomic<Int64>(0)
    private let stalled = Atomic<Int>(0)
    private let running = Atomic<Bool>(false)
    private let cpuNanoseconds = Atomic<Int64>(0)
    private let finished = Mutex<[DispatchSemaphore]>([])
    private static let periodNanoseconds: Int64 = 1_000_000

    /// Ticks in which neither thread ran.
    var stalledTicks: Int { stalled.load(ordering: .relaxed) }

    /// CPU time of the two threads, in seconds (once stopped).
    var cpuSeconds: Double { Double(cpuNanoseconds.load(ordering: .relaxed)) / 1e9 }

    func start() {
        claimedTick.store(BootClock.monotonicNanoseconds() / Self.periodNanoseconds, ordering: .relaxed)
        running.store(true, ordering: .relaxed)
        let processors = ProcessorAffinity.allowedProcessors()
        for index in 0..<2 {
            let done = DispatchSemaphore(value: 0)
            finished.withLock { $0.append(done) }
            let thread = Thread { [self] in
                run(
                    processor: processors.isEmpty ? nil : processors[index % processors.count],
                    offset: Int64(index) * Self.periodNanoseconds / 2)
                done.signal()
            }
            thread.name = "stall probe"
            thread.start()
        }
    }

    func stop() {
        running.store(false, ordering: .relaxed)
        for done in finished.withLock({ $0 }) { done.wait() }
    }

    private func run(processor: Int?, offset: Int64) {
        if let processor { ProcessorAffinity.pinCurrentThread(to: processor) }
        var parameters = sched_param()
        parameters.sched_priority = 5
        _ = pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters)
        var tick = BootClock.monotonicNanoseconds() / Self.periodNanoseconds + 1
        while running.load(ordering: .relaxed) {
            let deadline = tick * Self.periodNanoseconds + offset
            var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
            let current = BootClock.monotonicNanoseconds() / Self.periodNanoseconds
            // This thread ran in tick `current`; the ticks between the last one either thread
            // ran in and this one, neither did.
            var claimed = claimedTick.load(ordering: .relaxed)
            while claimed < current {
                let (exchanged, original) = claimedTick.compareExchange(expected: claimed, desired: current, ordering: .relaxed)
                if exchanged {
                    stalled.wrappingAdd(Int(max(0, current - 1 - claimed)), ordering: .relaxed)
                    break
                }
                claimed = original
            }
            tick = current + 1
        }
        cpuNanoseconds.wrappingAdd(BootClock.threadCPUNanoseconds(), ordering: .relaxed)
    }
}

/// PTY pairs whose board ends one thread writes kernel-log lines into at a serial line's rate,
/// in 10 ms bursts as a USB serial adapter delivers them.
private final class ConsoleFeeder: @unchecked Sendable {
    let paths: [String]
    private var masters: [Int32] = []
    private var slaves: [Int32] = []
    private let bytesPerSecond: Double
    private let lock = NSLock()
    private var running = false
    private var sent = 0
    private let finished = DispatchSemaphore(value: 0)

    init(count: Int, bytesPerSecond: Double) throws {
        self.bytesPerSecond = bytesPerSecond
        var paths: [String] = []
        for _ in 0..<count {
            var master: Int32 = -1
            var slave: Int32 = -1
            guard openpty(&master, &slave, nil, nil, nil) == 0, let name = ttyname(slave) else {
                throw BenchmarkSetupError(what: "openpty: \(String(cString: strerror(errno)))")
            }
            _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
            masters.append(master)
            slaves.append(slave)
            paths.append(String(cString: name))
        }
        self.paths = paths
    }

    deinit {
        for fd in masters + slaves { close(fd) }
    }

    var bytesSent: Int { lock.withLock { sent } }

    func start() {
        lock.withLock { running = true }
        let thread = Thread { [self] in
            feed()
            finished.signal()
        }
        thread.name = "console feeder"
        thread.start()
    }

    func stop() {
        lock.withLock { running = false }
        finished.wait()
    }

    private func feed() {
        var text: [UInt8] = []
        for line in 0..<2000 {
            let seconds = Double(line) * 0.004_321
            text += Array(
                String(
                    format: "[%5d.%06d] usb 1-1.%d: new high-speed USB device number %d using ehci-platform\r\n",
                    Int(seconds), Int(seconds * 1e6) % 1_000_000, line % 4, line % 128
                ).utf8)
        }
        var offsets = [Int](repeating: 0, count: masters.count)
        var owed = 0.0
        var deadline = BootClock.monotonicNanoseconds()
        while lock.withLock({ running }) {
            owed += bytesPerSecond * 0.01
            let burst = Int(owed)
            owed -= Double(burst)
            var written = 0
            for (index, master) in masters.enumerated() {
                var remaining = burst
                while remaining > 0 {
                    let start = offsets[index]
                    let count = min(remaining, text.count - start)
                    let result = text[start..<start + count].withUnsafeBytes { write(master, $0.baseAddress, count) }
                    guard result > 0 else { break }
                    written += result
                    remaining -= result
                    offsets[index] = (start + result) % text.count
                }
            }
            lock.withLock { sent += written }
            deadline += 10_000_000
            var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
            while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
        }
    }
}

private struct BenchmarkSetupError: Error, CustomStringConvertible {
    var what: String
    var description: String { "power benchmark setup failed: \(what)" }
}
