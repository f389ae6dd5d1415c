import FarmCore
import FarmDrivers
import FarmSim
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The cost of sampling many power meters at 1 kHz while consoles stream: run by `bench/power`,
/// which sets `BOOTFARM_BENCH_POWER=1` and reads the `POWER-BENCH` line this prints.
///
/// Settings (environment, defaults in brackets): `BOOTFARM_BENCH_POWER_METERS` [64],
/// `_RATE_HZ` [1000], `_SECONDS` [30], `_CONSOLES` [64], `_BAUD` [115200], `_SENSOR_HZ` [20]
/// (how often the simulated sensors change their files), `_THREADS` [shared: one sampling thread
/// for all meters; dedicated: one each], `_CHANNELS` [all: power, voltage and current, three
/// files a reading; power: one].
@Suite("Power benchmark")
struct PowerBenchmark {
    static let environment = ProcessInfo.processInfo.environment
    static let enabled = environment["BOOTFARM_BENCH_POWER"] == "1"

    static func setting(_ name: String, _ fallback: Double) -> Double {
        environment["BOOTFARM_BENCH_POWER_\(name)"].flatMap(Double.init) ?? fallback
    }

    @Test(.enabled(if: enabled, "power benchmark: set BOOTFARM_BENCH_POWER=1 to run it (bench/power does)"))
    func sixtyFourMetersAtOneKilohertzWhileConsolesStream() async throws {
        let meterCount = Int(Self.setting("METERS", 64))
        let rateHz = Self.setting("RATE_HZ", 1000)
        let seconds = Self.setting("SECONDS", 30)
        let consoleCount = Int(Self.setting("CONSOLES", 64))
        let baud = Int(Self.setting("BAUD", 115_200))
        let sensorHz = Self.setting("SENSOR_HZ", 20)
        let dedicated = Self.environment["BOOTFARM_BENCH_POWER_THREADS"] == "dedicated"
        let powerOnly = Self.environment["BOOTFARM_BENCH_POWER_CHANNELS"] == "power"

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
        let feeder = try ConsoleFeeder(count: consoleCount, bytesPerSecond: Double(baud) / 10)
        var consoles: [StreamConsole] = []
        for path in feeder.paths {
            let console = StreamConsole(endpoint: .serial(path: path, baud: baud))
            try await console.open(clock: clock)
            consoles.append(console)
        }
        feeder.start()

        let shared = PowerSamplingThread(name: "power bench")
        // Dedicated threads run at normal priority: 64 real-time threads waking 1000 times a second
        // could take the machine from everything else.
        let threads = dedicated ? (0..<meterCount).map { PowerSamplingThread(name: "power \($0)", realtimePriority: nil) } : [shared]
        let samplers = try sensors.enumerated().map { index, sensor in
            try PowerSampler(
                meter: try HwmonPowerMeter(directory: sensor.directory, readsVoltageAndCurrent: !powerOnly), clock: clock, rateHz: rateHz,
                thread: dedicated ? threads[index] : shared)
        }

        let loadAverage = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").first ?? "?"
        let usageBefore = Self.processCPUSeconds()
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
        let wallSeconds = Double(BootClock.monotonicNanoseconds() - wallBefore) / 1e9
        let processSeconds = Self.processCPUSeconds() - usageBefore
        let samplerSeconds = threads.reduce(0) { $0 + $1.cpuSeconds }
        feeder.stop()
        var received = 0
        for console in consoles {
            received += console.transcript.bytes.count
            await console.close()
        }

        let samples = results.reduce(0) { $0 + $1.trace.count }
        let lost = results.reduce(0) { $0 + $1.lostSamples }
        let errors = results.reduce(0) { $0 + $1.meterErrors }
        let rates = results.map { Double($0.trace.count) / max($0.trace.durationSeconds, 1e-9) }
        let meanRate = rates.reduce(0, +) / Double(max(rates.count, 1))
        let figures: [(String, String)] = [
            ("meters", "\(meterCount)"), ("rate_hz", "\(rateHz)"), ("seconds", String(format: "%.1f", wallSeconds)),
            ("threads", dedicated ? "dedicated" : "shared"), ("channels", powerOnly ? "power" : "all"),
            ("realtime", threads.allSatisfy(\.isRealtime) ? "yes" : "no"),
            ("samples", "\(samples)"), ("achieved_hz_per_meter", String(format: "%.1f", meanRate)),
            ("min_hz_per_meter", String(format: "%.1f", rates.min() ?? 0)), ("lost", "\(lost)"), ("meter_errors", "\(errors)"),
            ("sampler_cpu_percent", String(format: "%.2f", samplerSeconds / wallSeconds * 100)),
            ("process_cpu_percent", String(format: "%.2f", processSeconds / wallSeconds * 100)),
            ("consoles", "\(consoleCount)"), ("console_bytes_sent", "\(feeder.bytesSent)"), ("console_bytes_received", "\(received)"),
            ("sensor_updates_hz", "\(sensorHz)"), ("load_average_before", "\(loadAverage)"),
        ]
        print("POWER-BENCH " + figures.map { "\($0.0)=\($0.1)" }.joined(separator: " "))
        #expect(samples > 0)
        #expect(errors == 0)
        #expect(Double(received) >= Double(feeder.bytesSent) * 0.95)
    }

    /// User plus system CPU time of the whole process, in seconds.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
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
