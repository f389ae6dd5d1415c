/// How a scripted board goes wrong, chosen per board; `none` boots to the shell prompt.
///
/// The raw values are the names the command line uses (`bootfarm sim --fail panic=fake-003`).
public enum ScriptedBoardFailure: String, Sendable, CaseIterable, CustomStringConvertible {
    /// Boots normally: U-Boot, the kernel, then busybox's `/ # ` prompt.
    case none
    /// The kernel boots, init exits, and the kernel panics (the recorded panic, to its end marker).
    case panic
    /// The kernel stops printing partway through its boot, before init, and nothing more comes.
    case hang
    /// Nothing at all is printed after power-on, as when the bootloader is missing or broken.
    case noBootloader = "no-bootloader"
    /// The console adapter goes away partway through the kernel's output: the PTY closes, so a
    /// reader gets end of file or EIO, and the console link disappears. It comes back (a new PTY
    /// at the same path) the next time the board's power switches, as a USB-serial adapter
    /// re-enumerates.
    case consoleDisconnect = "console-disconnect"
    /// The relay module never answers commands for this board's channel, so the relay driver
    /// times out; the board itself would boot normally.
    case relayTimeout = "relay-timeout"

    public var description: String { rawValue }
}
