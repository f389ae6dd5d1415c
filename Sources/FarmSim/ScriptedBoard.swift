import Foundation

/// A fake board with no emulator behind it, for exercising a lab agent with hundreds of boards.
///
/// Its UART is a PTY linked at `consoleLink`, like a USB-serial adapter's stable name. Powered on
/// (by a simulated relay channel calling `setPower`), it behaves like a board running U-Boot: it
/// prints U-Boot's banner and `Hit any key to stop autoboot:  2`, and boots on its own after 2 s
/// unless a key arrives. Interrupted, it answers at the `=> ` prompt, echoing what is typed:
/// `setenv` silently, `dhcp` with a bound address, `tftpboot [ADDRESS] FILE` with U-Boot's
/// progress and `Bytes transferred = SIZE (HEX hex)` when FILE exists under `tftpRoot` (else
/// `TFTP error: 'File not found' (1)` and `Not retrying...`), and `booti`, `bootz`, `bootm` or
/// `zboot` (given a loaded kernel address) by starting the kernel. The kernel is a recorded boot
/// log replayed at 115200 baud (11,520 bytes/s, about 1.3 s) that ends at busybox's `/ # `
/// prompt; the shell then echoes lines and answers `sh: CMD: not found` to what it cannot run.
///
/// Power off stops the output at once; power on starts again from the banner. What was printed
/// but never read is dropped at the next power on. `failure` makes the board go wrong in one
/// chosen way. All boards of a `ScriptedBoardScheduler` share its one thread.
public final class ScriptedBoard: Sendable {
    /// The board's name in the lab.
    public let name: String
    /// Where the console PTY is linked (the lab file's console device).
    public let consoleLink: String
    /// The folder `tftpboot` reads from.
    public let tftpRoot: String
    /// How the board goes wrong, if it does.
    public let failure: ScriptedBoardFailure
    private let scheduler: ScriptedBoardScheduler
    private let slot: Int

    /// Creates the board, unpowered, with its console PTY linked at `consoleLink` (the link's
    /// folder is created when missing).
    /// - Throws: `SimulationError.cannotCreate` when the folder, PTY or link cannot be made, or the
    ///   scheduler is stopped.
    public init(
        name: String, consoleLink: String, tftpRoot: String, failure: ScriptedBoardFailure = .none, scheduler: ScriptedBoardScheduler
    ) throws(SimulationError) {
        self.name = name
        self.consoleLink = consoleLink
        self.tftpRoot = tftpRoot
        self.failure = failure
        self.scheduler = scheduler
        let folder = (consoleLink as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw .cannotCreate(what: "console folder", path: folder, reason: error.localizedDescription)
        }
        slot = try scheduler.add(consoleLink: consoleLink, firmware: ScriptedFirmware(failure: failure, tftpRoot: tftpRoot))
    }

    /// Switches the board's power, as its relay channel does; returns at once (the board's
    /// output follows on the scheduler's thread). Switching to the current state does nothing.
    public func setPower(_ on: Bool) {
        scheduler.setPower(slot, on: on)
    }

    /// Whether the board is powered.
    public var isPowered: Bool { scheduler.isPowered(slot) }

    /// The PTY slave the console link points at, such as `/dev/pts/7`; nil while the console is
    /// disconnected (until the power next switches, which links a new one) and once stopped.
    public var devicePath: String? { scheduler.devicePath(slot) }

    /// Powers the board off, closes its PTY and removes the console link. Safe to call twice.
    public func stop() {
        scheduler.remove(slot)
    }
}
