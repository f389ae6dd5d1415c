/// The outcome of one boot, in the words every report, column and API uses.
public enum BootStatus: String, Sendable, Codable, CaseIterable {
    /// The board reached the expected shell prompt and the kernel logged no fatal event.
    case pass
    /// The board or the kernel failed: a panic, an oops at boot, or no prompt in time while the
    /// infrastructure worked.
    case fail
    /// The infrastructure failed (relay, console, TFTP, QEMU, power meter): not the kernel's fault.
    case error
    /// The boot was stopped before it ended (Ctrl-C, agent shutdown, job canceled).
    case canceled

    /// The process exit status of `bootfarm boot` for this outcome: 0 pass, 1 fail, 3 error.
    public var exitCode: Int32 {
        switch self {
        case .pass: 0
        case .fail: 1
        case .error: 3
        case .canceled: 130
        }
    }
}
