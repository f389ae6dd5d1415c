import FarmCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The "power switch" of an emulated board: on starts QEMU, off stops it.
///
/// Powering on is split in two so no console output is lost: `start()` runs QEMU paused (`-S`)
/// with its serial port on a PTY or TCP socket and a QMP socket; the caller opens the console,
/// then `resume()` lets the CPUs run. `off()` runs the teardown steps and always ends with SIGKILL.
public final class QEMUPowerSwitch: PowerSwitch, @unchecked Sendable {
    /// The machine emulated.
    public let machine: QEMUMachine
    /// Lab-side settings (binary override, TFTP root, TCP serial port).
    public let resource: QEMUPowerResource
    /// Folder for the QMP socket and QEMU's own log.
    public let runDirectory: String
    /// Kernel, ramdisk and command line handed to QEMU directly (for `qemu-direct` boots).
    public var directBoot: (kernel: String, ramdisk: String?, dtb: String?, arguments: String)?
    /// The TFTP root QEMU's user network serves (nil: no TFTP).
    public var tftpRoot: String?
    /// Steps `off()` takes.
    public var teardown = TeardownStep.qemu
    /// Seconds to wait for QEMU's QMP socket after starting it.
    public var startTimeoutSeconds = 10.0
    /// Serve the serial console on this Unix socket instead of a PTY or TCP port (a simulated
    /// board bridges it to the PTY that stands for its USB-serial adapter).
    public var serialUnixSocket: String?

    private let lock = NSLock()
    private var process: ChildProcess?
    private var monitor: QMPClient?
    private var reportedConsolePath: String?

    public init(machine: QEMUMachine, resource: QEMUPowerResource, runDirectory: String) {
        self.machine = machine
        self.resource = resource
        self.runDirectory = runDirectory
        self.tftpRoot = resource.tftpRoot
    }

    /// The PTY QEMU attached the serial port to, known after `start()`.
    public var consolePath: String? { lock.withLock { reportedConsolePath } }

    /// QEMU's log file (its standard output and error).
    public var logPath: String { (runDirectory as NSString).appendingPathComponent("qemu.log") }

    private var socketPath: String { (runDirectory as NSString).appendingPathComponent("qmp.sock") }

    /// The command line QEMU is started with.
    public func arguments() -> [String] {
        var arguments = ["-M", machine.machine]
        if let cpu = machine.cpu { arguments += ["-cpu", cpu] }
        arguments += ["-m", String(machine.memoryMegabytes), "-display", "none", "-monitor", "none", "-S"]
        arguments += ["-qmp", "unix:\(socketPath),server=on,wait=off"]
        if let path = serialUnixSocket {
            arguments += ["-chardev", "socket,id=console,path=\(path),server=on,wait=off"]
        } else if let port = resource.serialTCPPort {
            arguments += ["-chardev", "socket,id=console,host=127.0.0.1,port=\(port),server=on,wait=off"]
        } else {
            arguments += ["-chardev", "pty,id=console"]
        }
        arguments += ["-serial", "chardev:console"]
        if let direct = directBoot {
            arguments += ["-kernel", direct.kernel, "-append", direct.arguments]
            if let ramdisk = direct.ramdisk { arguments += ["-initrd", ramdisk] }
            if let dtb = direct.dtb { arguments += ["-dtb", dtb] }
        } else if let firmware = machine.firmware {
            arguments += ["-bios", firmware]
        }
        if let device = machine.networkDevice {
            let tftp = tftpRoot.map { ",tftp=\($0)" } ?? ""
            arguments += ["-netdev", "user,id=net0\(tftp)", "-device", "\(device),netdev=net0"]
        }
        return arguments + machine.extraArguments
    }

    /// Starts QEMU paused and learns where its console is.
    public func start() async throws {
        let binaryName = resource.binary ?? machine.binary
        guard let binary = ChildProcess.locate(binaryName) else {
            throw PowerError.programMissing(
                program: binaryName, hint: "install Debian's qemu-system-arm / qemu-system-x86 (scripts/install-deps does)")
        }
        if let firmware = machine.firmware, directBoot == nil, !FileManager.default.fileExists(atPath: firmware) {
            throw PowerError.programMissing(program: firmware, hint: "install Debian's u-boot-qemu")
        }
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: socketPath)
        let child = try ChildProcess.launch(binary, arguments(), logPath: logPath)
        lock.withLock { process = child }
        let deadline = BootClock.monotonicNanoseconds() + Int64(startTimeoutSeconds * 1e9)
        var client: QMPClient?
        while client == nil {
            if !child.isRunning {
                throw PowerError.exitedEarly(program: binaryName, status: child.status ?? -1, output: logTail())
            }
            if FileManager.default.fileExists(atPath: socketPath) {
                client = try? QMPClient(socketPath: socketPath)
            }
            if client == nil {
                guard BootClock.monotonicNanoseconds() < deadline else {
                    await hardStop()
                    throw PowerError.timeout(what: "starting \(binaryName) (QMP socket)", seconds: startTimeoutSeconds)
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let chardevs = try client?.execute("query-chardev") as? [[String: Any]] ?? []
        let console = chardevs.first { $0["label"] as? String == "console" }
        let filename = console?["filename"] as? String ?? ""
        lock.withLock {
            monitor = client
            reportedConsolePath = filename.hasPrefix("pty:") ? String(filename.dropFirst(4)) : nil
        }
    }

    /// Lets the paused CPUs run.
    public func resume() async throws {
        guard let client = lock.withLock({ monitor }) else {
            throw PowerError.unexpectedAnswer(what: "QEMU resume", answer: "QEMU is not started")
        }
        try client.execute("cont")
    }

    public func on() async throws {
        try await start()
        try await resume()
    }

    public func off() async throws {
        guard let child = lock.withLock({ process }) else { return }
        for step in teardown {
            guard child.isRunning else { break }
            switch step {
            case .graceful(let wait):
                if let client = lock.withLock({ monitor }) { _ = try? client.execute("quit") }
                _ = await child.waitForExit(seconds: Self.seconds(wait))
            case .signal(let number, let wait):
                child.signal(number)
                _ = await child.waitForExit(seconds: Self.seconds(wait))
            case .kill:
                await hardStop()
            }
        }
        if child.isRunning { await hardStop() }
        lock.withLock {
            monitor = nil
            process = nil
            reportedConsolePath = nil
        }
    }

    public func state() async throws -> PowerState {
        lock.withLock { process }?.isRunning == true ? .on : .off
    }

    /// SIGKILL and reap; never fails.
    private func hardStop() async {
        guard let child = lock.withLock({ process }) else { return }
        child.signal(SIGKILL)
        _ = await child.waitForExit(seconds: 5)
    }

    /// The last lines QEMU printed, for error messages.
    public func logTail(lines: Int = 5) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(lines).joined(separator: " | ")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
