/// A shell command to run on a board once it has reached its shell prompt.
public struct TestDefinition: Sendable, Equatable, Codable {
    /// The test's name, which becomes the name of its test case.
    public var name: String
    /// The command, as typed at a POSIX shell (`sh`, busybox `ash`); may use quotes, pipes, `;`
    /// and `&&`. Its exit status decides the test case's result.
    public var command: String
    /// How long the command may run, in seconds, before the test counts as timed out.
    public var timeoutSeconds: Double

    /// Creates a test definition.
    public init(name: String, command: String, timeoutSeconds: Double) {
        self.name = name
        self.command = command
        self.timeoutSeconds = timeoutSeconds
    }
}
