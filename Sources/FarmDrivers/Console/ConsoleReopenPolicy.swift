/// How a serial console waits for its device to come back after it disappears.
///
/// A USB-serial adapter re-enumerates when its board is power cycled: its device node (and the
/// udev symlink naming it) goes away and returns moments later. With a policy, `StreamConsole`
/// treats end of file or EIO on a `.serial` endpoint as such a gap: it polls for the path, reopens
/// it with the same settings and marks the gap in the transcript. Without one, end of file closes
/// the console at once, as a QEMU PTY needs.
public struct ConsoleReopenPolicy: Sendable, Equatable {
    /// How long to wait for the device to return, in seconds, counted from the moment it went away.
    public var waitSeconds: Double
    /// How often to look for the device while waiting, in seconds. Default 0.1.
    public var pollIntervalSeconds: Double

    /// Creates a policy that waits up to `waitSeconds`, looking every `pollIntervalSeconds`.
    public init(waitSeconds: Double, pollIntervalSeconds: Double = 0.1) {
        self.waitSeconds = waitSeconds
        self.pollIntervalSeconds = pollIntervalSeconds
    }
}
