/// Thresholds of the regression finder. The defaults suit boot farms of emulated and physical
/// boards; every one can be set from the command line.
public struct RegressionSettings: Sendable, Equatable {
    /// Earlier revisions examined for history (flakiness, noise), newest first. Default 10.
    public var historyRevisions = 10
    /// Pass/fail changes within the window (with the current revision) that make a key flaky. Default 3.
    public var flakyTransitions = 3
    /// Passing samples a key needs before its boot time or energy is judged. Default 5.
    public var minimumSamples = 5
    /// How many noise widths (scaled median absolute deviation) above the median a value must be. Default 5.
    public var noiseFactor = 5.0
    /// Relative rise a boot time must also exceed (0.10 = 10 %). Default 0.10.
    public var bootTimeRelative = 0.10
    /// Relative rise an energy must also exceed. Default 0.10.
    public var energyRelative = 0.10
    /// Kernel image growth, in percent, against the previous revision that is reported. Default 2.
    public var kernelSizePercent = 2.0

    public init() {}
}
