/// The outcome of one test case run on a booted board.
public enum TestResult: String, Sendable, CaseIterable {
    /// The test ran and succeeded.
    case pass
    /// The test ran and failed (for a shell command: a non-zero exit status).
    case fail
    /// The test did not run, or its outcome is unknown (LAVA's `unknown` maps here).
    case skip
}
