import FarmCore

/// What a power sampler recorded over one job.
public struct PowerSamplingResult: Sendable {
    /// Every reading, stamped on the job's boot clock.
    public var trace: PowerTrace
    /// Ticks lost: ticks for which no read had begun by the time the next tick was due, because
    /// the sampling threads ran late (a read, or the machine, took longer than the sampling
    /// period). Every tick from the first reading to the last is either in `trace` or counted
    /// here, but for readings before power-on (kept as one) and failed reads. Ticks skipped while a failing meter waits for its next retry are not counted: the
    /// failure is in `meterErrors` and `warnings`.
    public var lostSamples: Int
    /// Reads that failed.
    public var meterErrors: Int
    /// One line each about the meter stopping or resuming answering, and about lost samples.
    public var warnings: [String]

    public init(trace: PowerTrace, lostSamples: Int = 0, meterErrors: Int = 0, warnings: [String] = []) {
        self.trace = trace
        self.lostSamples = lostSamples
        self.meterErrors = meterErrors
        self.warnings = warnings
    }
}

/// Records a board's power over one job: started at power-on, stopped once the board is off.
public protocol PowerRecorder: Sendable {
    /// Starts recording; a meter that cannot start is reported in the result, not thrown.
    func start()
    /// Stops recording and returns what was recorded.
    func stop() -> PowerSamplingResult
}

extension PowerSampler: PowerRecorder {}
