import FarmCore
import FarmDrivers
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct QEMUPowerSwitchTests {
    static let uBootMachine = QEMUMachine(
        binary: "qemu-system-aarch64", machine: "virt", cpu: "cortex-a57", memoryMegabytes: 1024,
        firmware: "/usr/lib/u-boot/qemu_arm64/u-boot.bin", networkDevice: "virtio-net-device")

    /// The argument that follows `flag`, or nil.
    func value(after flag: String, in arguments: [String]) -> String? {
        guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    @Test func uBootBoardStartsPausedWithPTYConsoleAndTFTP() {
        let power = QEMUPowerSwitch(
            machine: Self.uBootMachine, resource: QEMUPowerResource(tftpRoot: "/srv/tftp/board1"), runDirectory: "/run/bootfarm/board1")
        let arguments = power.arguments()
        #expect(value(after: "-M", in: arguments) == "virt")
        #expect(value(after: "-cpu", in: arguments) == "cortex-a57")
        #expect(value(after: "-m", in: arguments) == "1024")
        #expect(arguments.contains("-S"))
        let qmp = value(after: "-qmp", in: arguments) ?? ""
        #expect(qmp.hasPrefix("unix:/run/bootfarm/board1/"))
        #expect(qmp.contains("server=on") && qmp.contains("wait=off"))
        #expect(value(after: "-chardev", in: arguments) == "pty,id=console")
        #expect(value(after: "-serial", in: arguments) == "chardev:console")
        #expect(value(after: "-bios", in: arguments) == "/usr/lib/u-boot/qemu_arm64/u-boot.bin")
        #expect(value(after: "-netdev", in: arguments) == "user,id=net0,tftp=/srv/tftp/board1")
        #expect(value(after: "-device", in: arguments) == "virtio-net-device,netdev=net0")
        #expect(!arguments.contains("-kernel"))
    }

    @Test func serialTCPPortUsesASocketConsole() {
        let power = QEMUPowerSwitch(
            machine: Self.uBootMachine, resource: QEMUPowerResource(serialTCPPort: 5555), runDirectory: "/run/bootfarm/board1")
        let arguments = power.arguments()
        let chardev = value(after: "-chardev", in: arguments) ?? ""
        #expect(chardev.hasPrefix("socket,id=console,"))
        #expect(chardev.contains("port=5555"))
        #expect(chardev.contains("server=on"))
        #expect(!arguments.contains("pty,id=console"))
        #expect(value(after: "-netdev", in: arguments) == "user,id=net0", "no TFTP root, no tftp option")
    }

    @Test func directBootPassesKernelAndSkipsFirmware() {
        let power = QEMUPowerSwitch(machine: Self.uBootMachine, resource: QEMUPowerResource(), runDirectory: "/run/bootfarm/board1")
        power.directBoot = (kernel: "/cache/Image", ramdisk: "/cache/initrd.cpio.gz", dtb: nil, arguments: "console=ttyAMA0 rdinit=/init")
        let arguments = power.arguments()
        #expect(value(after: "-kernel", in: arguments) == "/cache/Image")
        #expect(value(after: "-initrd", in: arguments) == "/cache/initrd.cpio.gz")
        #expect(value(after: "-append", in: arguments) == "console=ttyAMA0 rdinit=/init")
        #expect(!arguments.contains("-bios"))
        #expect(!arguments.contains("-dtb"))
        #expect(arguments.contains("-S"))
    }

    @Test func extraArgumentsComeLast() {
        var machine = Self.uBootMachine
        machine.extraArguments = ["-smp", "2"]
        let power = QEMUPowerSwitch(machine: machine, resource: QEMUPowerResource(), runDirectory: "/run/bootfarm/board1")
        #expect(Array(power.arguments().suffix(2)) == ["-smp", "2"])
    }

    @Test func missingEmulatorIsReportedAsMissingProgram() async throws {
        let folder = try TemporaryFolder()
        let power = QEMUPowerSwitch(
            machine: Self.uBootMachine, resource: QEMUPowerResource(binary: "qemu-system-bootfarm-missing"), runDirectory: folder.path)
        let error = await #expect(throws: PowerError.self) { try await power.start() }
        guard case .programMissing(let program, _)? = error else {
            Issue.record("expected PowerError.programMissing, got \(String(describing: error))")
            return
        }
        #expect(program == "qemu-system-bootfarm-missing")
        #expect(try await power.state() == .off)
    }

    @Test func missingFirmwareIsReportedAsMissingProgram() async throws {
        let folder = try TemporaryFolder()
        var machine = Self.uBootMachine
        machine.firmware = folder.file("u-boot.bin")
        // The emulator is found (any program will do); the firmware is checked before it runs.
        let power = QEMUPowerSwitch(machine: machine, resource: QEMUPowerResource(binary: "/bin/true"), runDirectory: folder.path)
        let error = await #expect(throws: PowerError.self) { try await power.start() }
        guard case .programMissing(let program, _)? = error else {
            Issue.record("expected PowerError.programMissing, got \(String(describing: error))")
            return
        }
        #expect(program == folder.file("u-boot.bin"))
    }

    @Test(
        .enabled(if: ChildProcess.locate("qemu-system-aarch64") != nil, "needs qemu-system-aarch64"),
        .timeLimit(.minutes(1)))
    func emulatorThatExitsAtOnceIsReportedWithItsOutput() async throws {
        let folder = try TemporaryFolder()
        let machine = QEMUMachine(binary: "qemu-system-aarch64", machine: "bootfarm-no-such-machine", memoryMegabytes: 64)
        let power = QEMUPowerSwitch(machine: machine, resource: QEMUPowerResource(), runDirectory: folder.path)
        let error = await #expect(throws: PowerError.self) { try await power.start() }
        guard case .exitedEarly(let program, let status, let output)? = error else {
            Issue.record("expected PowerError.exitedEarly, got \(String(describing: error))")
            return
        }
        #expect(program == "qemu-system-aarch64")
        #expect(status != 0)
        #expect(output.contains("machine"), "the tail of QEMU's own log says why")
        #expect(try await power.state() == .off)
        try await power.off()
    }

    @Test(
        .enabled(if: ChildProcess.locate("qemu-system-aarch64") != nil, "needs qemu-system-aarch64"),
        .timeLimit(.minutes(1)))
    func realEmulatorStartsPausedOnAPTYAndStopsCompletely() async throws {
        let folder = try TemporaryFolder()
        let pidFile = folder.file("qemu.pid")
        // No firmware and no kernel: the machine stays paused, which is all this test needs.
        let machine = QEMUMachine(
            binary: "qemu-system-aarch64", machine: "virt", memoryMegabytes: 64, extraArguments: ["-pidfile", pidFile])
        let power = QEMUPowerSwitch(machine: machine, resource: QEMUPowerResource(), runDirectory: folder.path)
        try await power.start()
        do {
            let consolePath = try #require(power.consolePath)
            #expect(consolePath.hasPrefix("/dev/pts/"))
            #expect(try await power.state() == .on)
            let pidText = try String(contentsOfFile: pidFile, encoding: .utf8)
            let pid = try #require(Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(kill(pid, 0) == 0)

            // The console PTY opens, and QEMU going away ends it.
            let console = StreamConsole(endpoint: .serial(path: consolePath, baud: 115200))
            let clock = BootClock()
            try await console.open(clock: clock)
            clock.start()

            let started = ContinuousClock.now
            try await power.off()
            #expect(ContinuousClock.now - started < .seconds(20))
            #expect(try await power.state() == .off)
            #expect(power.consolePath == nil)
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "no QEMU process left, not even a zombie")
            await #expect(throws: ConsoleError.self) {
                try await console.expect([.literal("never printed")], deadline: clock.seconds + 5)
            }
            await console.close()
            // Powering off twice is harmless.
            try await power.off()
        } catch {
            try? await power.off()
            throw error
        }
    }
}
