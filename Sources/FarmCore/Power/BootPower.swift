/// What a boot's power meter recorded: the trace and what it adds up to.
public struct BootPower: Sendable, Equatable {
    /// Every sample, on the boot's clock.
    public var trace: PowerTrace
    /// Energy of each stage, in joules; sums to the trace's energy.
    public var stageEnergyJoules: [Stage: Double]
    /// Sampling ticks missed because a read took too long.
    public var lostSamples: Int
    /// Meter trouble that did not fail the boot (a meter that stopped answering).
    public var warnings: [String]

    public init(trace: PowerTrace, stageEnergyJoules: [Stage: Double], lostSamples: Int, warnings: [String]) {
        self.trace = trace
        self.stageEnergyJoules = stageEnergyJoules
        self.lostSamples = lostSamples
        self.warnings = warnings
    }
}
