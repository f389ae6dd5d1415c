import FarmCore
import Synchronization

/// Samples one power meter at a steady rate for the whole of a job, stamping readings with the
/// job's boot clock.
///
/// Reads happen on a `PowerSamplingThread`: the sampler's own by default, or one shared with
/// other samplers (an agent with many boards; see there). Tick `k` is due at `k` periods on the
/// monotonic clock, so a slow read never shifts the ones after it. A tick is *lost* when no read
/// for it has begun by the time the next tick is due (its deadline passed by a whole period); a
/// tick read late but within its period is not lost, and the next one is read right after it.
/// A meter that fails is not fatal: the failure is counted and reported as a warning, and the
/// meter is retried every 100 ms until it answers again.
///
/// Every tick reads power; voltage and current (two more files on hwmon and IIO) are read along
/// with it at `voltageAndCurrentRateHz`, 100 Hz by default: every tick up to that rate, every
/// tenth at 1 kHz. Samples in between carry power alone.
///
/// Readings taken before the boot clock starts (power-on) all read time 0; only the last of them
/// is kept, so the trace begins with the meter's value just before power-on.
public final class PowerSampler: Sendable {
    /// Sampling rate when none is given.
    public static let defaultRateHz = 100.0
    /// Rates a sampler accepts.
    public static let allowedRatesHz: ClosedRange<Double> = 1...1000
    /// How often voltage and current are read when not said: at most 100 times a second.
    public static let defaultVoltageAndCurrentRateHz = 100.0
    /// Voltage-and-current rates a sampler accepts; 0 reads power alone.
    public static let allowedVoltageAndCurrentRatesHz: ClosedRange<Double> = 0...1000

    /// The meter sampled.
    public let meter: any PowerMeter
    /// The job's clock; readings are stamped with it.
    public let clock: BootClock
    /// Samples a second.
    public let rateHz: Double
    /// Readings of voltage and current a second, at most `rateHz`; 0 for power alone.
    public let voltageAndCurrentRateHz: Double
    /// Nanoseconds between ticks.
    let periodNanoseconds: Int64
    /// Ticks from one reading of voltage and current to the next; 0 for never.
    let fullReadingIntervalTicks: Int64
    /// The threads that read the meter.
    public let thread: PowerSamplingThread
    private let recording = Mutex(Recording())
    /// The result, once `stop()` made it; its lock also keeps two `stop()` calls apart.
    private let result = Mutex<PowerSamplingResult?>(nil)

    /// Failure episodes (stopped answering … answered again) reported one by one; later ones are
    /// summed up in one warning so a flapping meter cannot flood a boot record.
    private static let reportedFailureEpisodes = 10

    /// Samples per chunk of the trace being recorded. The sampling thread only ever appends to a
    /// small array: growing one long array would copy megabytes (and fault in fresh pages) on the
    /// sampling thread every time it doubled, long enough to miss ticks at 1 kHz.
    private static let chunkSamples = 2048

    /// A reading as the sampling thread records it; made into a `PowerSample` (micro-units,
    /// columns) only by `stop()`, off the sampling thread.
    private struct RecordedReading {
        var timeNanoseconds: Int64
        var reading: PowerReading

        var sample: PowerSample {
            PowerSample(
                timeNanoseconds: timeNanoseconds, powerMicrowatts: reading.powerMicrowatts,
                voltageMillivolts: reading.voltageMillivolts, currentMilliamps: reading.currentMilliamps)
        }
    }

    private struct Recording {
        /// Full chunks, then the one being filled; joined into one trace by `stop()`.
        var chunks: [[RecordedReading]] = []
        var current = Recording.emptyChunk()
        var lastTime: Int64 = .min
        var beforePowerOn: RecordedReading?
        var lostSamples = 0
        var meterErrors = 0
        var warnings: [String] = []
        var failedReadsInEpisode = 0
        var failureEpisodes = 0
        var clockWentBack = false
        var started = false
        var closed = false

        static func emptyChunk() -> [RecordedReading] {
            var chunk: [RecordedReading] = []
            chunk.reserveCapacity(PowerSampler.chunkSamples)
            return chunk
        }

        /// Adds a reading; false when it is older than the last one.
        mutating func append(_ reading: RecordedReading) -> Bool {
            guard reading.timeNanoseconds >= lastTime else { return false }
            if current.count >= PowerSampler.chunkSamples {
                chunks.append(current)
                current = Recording.emptyChunk()
            }
            current.append(reading)
            lastTime = reading.timeNanoseconds
            return true
        }

        /// Everything recorded as one trace.
        func joined() -> PowerTrace {
            var trace = PowerTrace()
            trace.reserveCapacity(chunks.count * PowerSampler.chunkSamples + current.count)
            for chunk in chunks + [current] {
                // In time order, as `append` checked.
                for reading in chunk { try? trace.append(reading.sample) }
            }
            return trace
        }
    }

    /// A sampler for `meter`, stamping with `clock`.
    ///
    /// - Parameters:
    ///   - rateHz: samples a second, 1–1000 (default 100).
    ///   - voltageAndCurrentRateHz: how often a sample also reads voltage and current, 0–1000
    ///     (default 100; 0: never; at or above `rateHz`: every sample). The first sample always
    ///     does.
    ///   - thread: where reads happen; `nil` (default) gives the sampler a thread of its own, with
    ///     real-time priority where the system grants it.
    /// - Throws: `PowerMeterError.invalidRate` for a rate outside `allowedRatesHz` or a voltage
    ///   and current rate outside `allowedVoltageAndCurrentRatesHz`.
    public init(
        meter: any PowerMeter, clock: BootClock, rateHz: Double = defaultRateHz,
        voltageAndCurrentRateHz: Double = defaultVoltageAndCurrentRateHz, thread: PowerSamplingThread? = nil
    ) throws(PowerMeterError) {
        guard Self.allowedRatesHz.contains(rateHz) else { throw .invalidRate(rateHz: rateHz, allowed: Self.allowedRatesHz) }
        guard Self.allowedVoltageAndCurrentRatesHz.contains(voltageAndCurrentRateHz) else {
            throw .invalidRate(rateHz: voltageAndCurrentRateHz, allowed: Self.allowedVoltageAndCurrentRatesHz)
        }
        self.meter = meter
        self.clock = clock
        self.rateHz = rateHz
        self.voltageAndCurrentRateHz = min(voltageAndCurrentRateHz, rateHz)
        periodNanoseconds = Int64((1e9 / rateHz).rounded())
        fullReadingIntervalTicks = voltageAndCurrentRateHz > 0 ? max(1, Int64((rateHz / voltageAndCurrentRateHz).rounded())) : 0
        self.thread = thread ?? PowerSamplingThread(name: "power \(meter)")
    }

    /// Starts sampling; the first reading is taken at once. Calling it again does nothing.
    public func start() {
        let first = recording.withLock { recording in
            defer { recording.started = true }
            return !recording.started && !recording.closed
        }
        if first { thread.attach(self) }
    }

    /// Stops sampling and returns what was recorded. Returns at once, even while a read hangs (a
    /// reading that completes afterwards is dropped). Calling it again returns the same result.
    public func stop() -> PowerSamplingResult {
        thread.detach(self)
        return result.withLock { result in
            if let result { return result }
            // Take the recording out under its lock and join it outside: the sampling thread may
            // be waiting for that lock, and joining a long trace takes a while.
            var taken = recording.withLock { recording in
                recording.closed = true
                let taken = recording
                recording.chunks = []
                recording.current = []
                return taken
            }
            if let pending = taken.beforePowerOn { _ = taken.append(pending) }
            var warnings = taken.warnings
            if taken.lostSamples > 0 {
                let periodMilliseconds = Double(periodNanoseconds) / 1e6
                let hint =
                    thread.isRealtime ? "" : "; the sampling thread has no real-time priority (grant CAP_SYS_NICE or an rtprio limit)"
                warnings.append(
                    "power meter \(meter): \(taken.lostSamples) samples lost (sampling ran later than the \(periodMilliseconds) ms period)\(hint)"
                )
            }
            let made = PowerSamplingResult(
                trace: taken.joined(), lostSamples: taken.lostSamples, meterErrors: taken.meterErrors, warnings: warnings)
            result = made
            return made
        }
    }

    /// Records a reading taken at `timeNanoseconds` on the boot clock; `missedTicks` ticks before
    /// it were lost.
    func record(_ reading: PowerReading, atNanoseconds timeNanoseconds: Int64, missedTicks: Int) {
        let sample = RecordedReading(timeNanoseconds: timeNanoseconds, reading: reading)
        recording.withLock { recording in
            guard !recording.closed else { return }
            recording.lostSamples += missedTicks
            if recording.failedReadsInEpisode > 0 {
                if recording.failureEpisodes <= Self.reportedFailureEpisodes {
                    recording.warnings.append(
                        "power meter \(meter) answered again at \(Self.seconds(timeNanoseconds)) after \(recording.failedReadsInEpisode) failed reads"
                    )
                }
                recording.failedReadsInEpisode = 0
            }
            if timeNanoseconds == 0 {
                recording.beforePowerOn = sample
                return
            }
            if let pending = recording.beforePowerOn {
                _ = recording.append(pending)
                recording.beforePowerOn = nil
            }
            if !recording.append(sample) {
                // The boot clock was started again (a second power-on in one job): keep the trace
                // of the first and say so once.
                if !recording.clockWentBack {
                    recording.clockWentBack = true
                    recording.warnings.append("power meter \(meter): boot clock restarted; later samples dropped")
                }
            }
        }
    }

    /// Records a failed read at `timeNanoseconds`; `missedTicks` ticks before it were lost.
    func recordFailure(_ error: any Error, atNanoseconds timeNanoseconds: Int64, missedTicks: Int) {
        recording.withLock { recording in
            guard !recording.closed else { return }
            recording.lostSamples += missedTicks
            recording.meterErrors += 1
            recording.failedReadsInEpisode += 1
            guard recording.failedReadsInEpisode == 1 else { return }
            recording.failureEpisodes += 1
            if recording.failureEpisodes <= Self.reportedFailureEpisodes {
                recording.warnings.append("power meter \(meter) stopped answering at \(Self.seconds(timeNanoseconds)): \(error)")
            } else if recording.failureEpisodes == Self.reportedFailureEpisodes + 1 {
                recording.warnings.append("power meter \(meter) keeps failing; further failures are only counted")
            }
        }
    }

    private static func seconds(_ nanoseconds: Int64) -> String {
        let milliseconds = (Double(nanoseconds) / 1e6).rounded()
        return "\(milliseconds / 1000) s"
    }
}
