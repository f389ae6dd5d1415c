import FarmCore

/// What a power sampler recorded over one job.
public struct PowerSamplingResult: Sendable {
    /// Every reading, stamped on the job's boot clock.
    public var trace: PowerTrace
    /// Ticks missed because the sampling thread ran late (a read, or the machine, took longer
    /// than the sampling period). Ticks skipped while a failing meter waits for its next retry
    /// are not counted: the failure is in `meterErrors` and `warnings`.
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
