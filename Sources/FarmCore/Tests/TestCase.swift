/// One test case's outcome on a booted board: a shell command run after boot, or a case a test
/// script reported with a LAVA signal line.
public struct TestCase: Sendable, Equatable {
    /// The case's name: the test definition's name, or a LAVA `TEST_CASE_ID`.
    public var name: String
    /// Whether it passed, failed or was skipped.
    public var result: TestResult
    /// A measured value reported with the case (LAVA `MEASUREMENT`), if any.
    public var measurement: Double?
    /// The unit of `measurement` as the test wrote it (LAVA `UNITS`, such as `ms`), if any.
    public var units: String?
    /// What the command printed, kernel messages removed; empty for cases from LAVA signals.
    public var output: String

    /// Creates a test case.
    public init(name: String, result: TestResult, measurement: Double? = nil, units: String? = nil, output: String = "") {
        self.name = name
        self.result = result
        self.measurement = measurement
        self.units = units
        self.output = output
    }
}
