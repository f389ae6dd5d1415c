import FarmCore
import FarmDrivers
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An emulated board wired like a physical one: its UART is a PTY (standing for a USB-serial
/// adapter, reachable through a stable symlink), and its power comes from a relay channel — when
/// the channel closes, QEMU starts; when it opens, QEMU stops. Output reaches the PTY whether or
/// not anyone listens, as on real hardware; the simulator also follows the boot's stage so a
/// simulated power meter can draw the right power.
public final class SimulatedBoard: @unchecked Sendable {
    /// The board's name in the lab.
    public let name: String
    /// Where the console PTY is linked (the lab file's console device).
    public let consoleLink: String
    /// Called when the board's stage changes (nil: powered off).
    public var onStage: @Sendable (Stage?) -> Void = { _ in }

    private let machine: QEMUMachine
    private let tftpRoot: String
    private let runDirectory: String
    private let master: Int32
    private let slave: Int32
    private let lock = NSLock()
    private var qemu: QEMUPowerSwitch?
    private var socket: Int32 = -1
    private var pumping = false
    private var stopped = false
    private var stage: Stage?
    private var generation = 0
    private var recent: [UInt8] = []

    /// Creates the board's console PTY and links it at `consoleLink`.
    public init(name: String, machine: QEMUMachine, tftpRoot: String, consoleLink: String, runDirectory: String) throws {
        self.name = name
        self.machine = machine
        self.tftpRoot = tftpRoot
        self.consoleLink = consoleLink
        self.runDirectory = runDirectory
        var masterFD: Int32 = -1
        var slaveFD: Int32 = -1
        guard openpty(&masterFD, &slaveFD, nil, nil, nil) == 0 else {
            throw PowerError.unexpectedAnswer(
                what: "simulated board \(name)", answer: "cannot create a PTY: \(String(cString: strerror(errno)))")
        }
        master = masterFD
        slave = slaveFD
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        // Raw on the board side too, so nothing is echoed back into the board.
        var settings = termios()
        tcgetattr(slave, &settings)
        cfmakeraw(&settings)
        tcsetattr(slave, TCSANOW, &settings)
        guard let path = ttyname(slave).map({ String(cString: $0) }) else {
            throw PowerError.unexpectedAnswer(what: "simulated board \(name)", answer: "the PTY has no name")
        }
        try FileManager.default.createDirectory(
            atPath: (consoleLink as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: consoleLink)
        try FileManager.default.createSymbolicLink(atPath: consoleLink, withDestinationPath: path)
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
    }

    /// True while QEMU runs.
    public var isPowered: Bool { lock.withLock { qemu != nil } }

    /// Switches the board's power (what a relay channel does).
    public func setPower(_ on: Bool) async throws {
        if on {
            guard lock.withLock({ qemu == nil && !stopped }) else { return }
            let socketPath = (runDirectory as NSString).appendingPathComponent("uart.sock")
            let power = QEMUPowerSwitch(machine: machine, resource: QEMUPowerResource(tftpRoot: tftpRoot), runDirectory: runDirectory)
            power.serialUnixSocket = socketPath
            try await power.start()
            let connected = try UnixSocket.connect(socketPath, what: "UART socket")
            let current = lock.withLock {
                qemu = power
                socket = connected
                generation += 1
                recent = []
                return generation
            }
            setStage(.power)
            startPump(generation: current)
            try await power.resume()
        } else {
            let (power, connected) = lock.withLock { () -> (QEMUPowerSwitch?, Int32) in
                let taken = (qemu, socket)
                qemu = nil
                socket = -1
                generation += 1
                return taken
            }
            if connected >= 0 { close(connected) }
            try await power?.off()
            setStage(nil)
        }
    }

    /// Powers off and removes the PTY link.
    public func stop() async {
        lock.withLock { stopped = true }
        try? await setPower(false)
        try? FileManager.default.removeItem(atPath: consoleLink)
        close(master)
        close(slave)
    }

    private func setStage(_ new: Stage?) {
        let changed = lock.withLock { () -> Bool in
            guard stage != new else { return false }
            stage = new
            return true
        }
        if changed { onStage(new) }
    }

    /// Copies bytes between QEMU's UART socket and the PTY until the power goes off.
    private func startPump(generation current: Int) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let connected = lock.withLock { generation == current ? socket : -1 }
                guard connected >= 0 else { return }
                var pollers = [
                    pollfd(fd: connected, events: Int16(POLLIN), revents: 0), pollfd(fd: master, events: Int16(POLLIN), revents: 0),
                ]
                guard poll(&pollers, 2, 100) > 0 else { continue }
                if pollers[0].revents != 0 {
                    let count = buffer.withUnsafeMutableBytes { read(connected, $0.baseAddress, $0.count) }
                    if count <= 0 { return }
                    // Nobody reading the adapter: its buffer fills and bytes are lost, as on hardware.
                    _ = buffer.withUnsafeBytes { write(master, $0.baseAddress, count) }
                    follow(buffer[0..<count])
                }
                if pollers[1].revents & Int16(POLLIN) != 0 {
                    let count = buffer.withUnsafeMutableBytes { read(master, $0.baseAddress, $0.count) }
                    if count > 0 { _ = buffer.withUnsafeBytes { write(connected, $0.baseAddress, count) } }
                }
            }
        }
        thread.name = "simulated board \(name)"
        thread.start()
    }

    /// Follows the boot's stage from what the board prints.
    private func follow(_ bytes: ArraySlice<UInt8>) {
        recent.append(contentsOf: bytes)
        if recent.count > 8192 { recent.removeFirst(recent.count - 8192) }
        let text = String(decoding: recent, as: UTF8.self)
        var next: Stage?
        if text.contains("Run /init") || text.contains("Freeing unused kernel") {
            next = .userspace
        } else if text.contains("Booting Linux") || text.contains("Linux version") {
            next = .kernel
        } else if text.contains("U-Boot") {
            next = .bootloader
        }
        guard let next else { return }
        let current = lock.withLock { stage }
        if current == nil || next > (current ?? .power) { setStage(next) }
    }
}
