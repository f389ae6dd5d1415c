/// One step of stopping a process; a teardown is a list of them that always ends in a hard stop.
public enum TeardownStep: Sendable, Equatable {
    /// Ask the program to stop by its own protocol (QMP `quit`), then wait.
    case graceful(after: Duration)
    /// Send a signal, then wait.
    case signal(Int32, wait: Duration)
    /// SIGKILL, then wait for the kernel to reap it.
    case kill

    /// The teardown of a QEMU board: `quit` over QMP, SIGTERM, SIGKILL.
    public static let qemu: [TeardownStep] = [.graceful(after: .seconds(2)), .signal(15, wait: .seconds(2)), .kill]
}
