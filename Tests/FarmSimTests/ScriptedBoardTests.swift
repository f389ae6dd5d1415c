import FarmCore
import FarmDrivers
import FarmSim
import Foundation
import Testing

/// Scripted fake boards driven over their console PTYs, as the boot state machine drives them.
@Suite struct ScriptedBoardTests {
    /// A scheduler with one board in a fresh folder; its TFTP root holds `Image` (300,000 bytes).
    struct Bench {
        let folder: String
        let scheduler: ScriptedBoardScheduler
        let board: ScriptedBoard

        init(failure: ScriptedBoardFailure = .none) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("scripted-board-\(UUID().uuidString)").path
            let tftpRoot = folder + "/tftp"
            try FileManager.default.createDirectory(atPath: tftpRoot + "/jobs", withIntermediateDirectories: true)
            try Data(repeating: 0x5A, count: 300_000).write(to: URL(fileURLWithPath: tftpRoot + "/jobs/Image"))
            scheduler = try ScriptedBoardScheduler()
            board = try ScriptedBoard(
                name: "fake-001", consoleLink: folder + "/consoles/fake-001", tftpRoot: tftpRoot, failure: failure, scheduler: scheduler)
        }

        func stop() {
            board.stop()
            scheduler.stop()
            try? FileManager.default.removeItem(atPath: folder)
        }

        /// Opens the console, powers on, stops autoboot and loads the kernel.
        func bootloaderWithKernelLoaded() throws -> SerialConsoleReader {
            let console = try SerialConsoleReader(path: board.consoleLink)
            board.setPower(true)
            try #require(console.waitFor("Hit any key to stop autoboot:  2 ") != nil)
            try console.type(" ")
            try #require(console.waitFor("=> ") != nil)
            try console.type("tftpboot 0x40400000 jobs/Image\n")
            try #require(console.waitFor("=> ") != nil)
            return console
        }
    }

    @Test func scriptedBoardInterruptsAutobootLoadsOverTFTPAndBootsToTheShellAtTheLineRate() throws {
        let bench = try Bench()
        defer { bench.stop() }
        let console = try SerialConsoleReader(path: bench.board.consoleLink)
        bench.board.setPower(true)
        #expect(bench.board.isPowered)
        let banner = try #require(console.waitFor("Hit any key to stop autoboot:  2 "))
        #expect(banner.hasPrefix("\r\n\r\nU-Boot 2023.01"))
        try console.type(" ")
        #expect(console.waitFor("=> ") == "\u{8}\u{8}\u{8} 0 \r\n=> ")

        func answer(_ command: UBootCommand) throws -> String {
            try console.type(command.text + "\n")
            return try #require(console.waitFor("=> "), "no prompt after \(command.text)")
        }
        let setting = UBootCommand("setenv autoload no", kind: .setting)
        #expect(try answer(setting) == "setenv autoload no\r\n=> ")
        let dhcp = UBootCommand("dhcp", kind: .dhcp)
        let dhcpAnswer = try answer(dhcp)
        #expect(dhcpAnswer.contains("DHCP client bound to address 10.0.2.15 (3 ms)\r\n"))
        #expect(UBootAnswer.judge(dhcp, output: dhcpAnswer) == .ok)

        let load = UBootCommand("tftpboot 0x40400000 jobs/Image", kind: .load(file: "jobs/Image"))
        let loadAnswer = try answer(load)
        #expect(loadAnswer.hasPrefix("tftpboot 0x40400000 jobs/Image\r\n"))
        #expect(loadAnswer.contains("Filename 'jobs/Image'.\r\nLoad address: 0x40400000\r\n"))
        #expect(loadAnswer.contains("Bytes transferred = 300000 (493e0 hex)\r\n"))
        #expect(UBootAnswer.judge(load, output: loadAnswer) == .ok)

        let missing = UBootCommand("tftpboot 0x44000000 jobs/ramdisk", kind: .load(file: "jobs/ramdisk"))
        let missingAnswer = try answer(missing)
        #expect(missingAnswer.contains("Loading: *\r\nTFTP error: 'File not found' (1)\r\nNot retrying...\r\n=> "))
        #expect(
            UBootAnswer.judge(missing, output: missingAnswer)
                == .infrastructureError("tftpboot jobs/ramdisk: TFTP error: 'File not found' (1)"))
        #expect(try answer(UBootCommand("setenv bootargs 'console=ttyAMA0,115200'", kind: .setting)).hasSuffix("'\r\n=> "))

        try console.type("booti 0x40400000 - ${fdtcontroladdr}\n")
        let handOff = try #require(console.waitFor("Starting kernel ...\r\n\r\n"))
        #expect(handOff.contains("## Flattened Device Tree blob at 5edb6db0"))
        #expect(!handOff.contains("Loading Ramdisk"))
        let kernelStarted = Date()
        let kernel = try #require(console.waitFor("/ # ", timeoutSeconds: 10))
        let seconds = Date().timeIntervalSince(kernelStarted)
        #expect(kernel.hasPrefix("[    0.000000] Booting Linux on physical CPU"))
        #expect(kernel.contains("Linux version 6.1.0-57-arm64"))
        #expect(kernel.contains("Run /init as init process\r\n"))
        #expect(kernel.hasSuffix("Enter 'help' for a list of built-in commands.\r\n\r\n/ # "))
        // 115200 baud carries 11,520 bytes a second.
        let expectedSeconds = Double(kernel.utf8.count) / Double(ScriptedBoardScheduler.bytesPerSecond)
        #expect(expectedSeconds > 1.0)
        #expect(seconds >= expectedSeconds * 0.9, "\(kernel.utf8.count) bytes in \(seconds) s: faster than 115200 baud")
        #expect(seconds <= expectedSeconds * 1.4 + 0.2, "\(kernel.utf8.count) bytes in \(seconds) s: slower than 115200 baud")

        try console.type("ls /\n")
        #expect(console.waitFor("/ # ") == "ls /\r\nsh: ls: not found\r\n/ # ")
        try console.type("echo hello\n")
        #expect(console.waitFor("/ # ") == "echo hello\r\nhello\r\n/ # ")
    }

    @Test func withoutAKeyTheBoardAutobootsAfterTwoSeconds() throws {
        let bench = try Bench()
        defer { bench.stop() }
        let console = try SerialConsoleReader(path: bench.board.consoleLink)
        bench.board.setPower(true)
        try #require(console.waitFor("Hit any key to stop autoboot:  2 ") != nil)
        let countdownStarted = Date()
        let countdown = try #require(console.waitFor("Starting kernel ..."))
        let seconds = Date().timeIntervalSince(countdownStarted)
        #expect(countdown.hasPrefix("\u{8}\u{8}\u{8} 1 \u{8}\u{8}\u{8} 0 \r\n"))
        #expect(seconds >= 1.9 && seconds < 3, "autoboot after \(seconds) s")
        #expect(console.waitFor("/ # ") != nil)
    }

    @Test func bootingWithoutALoadedKernelIsRefusedAndUnknownCommandsAreNamed() throws {
        let bench = try Bench()
        defer { bench.stop() }
        let console = try SerialConsoleReader(path: bench.board.consoleLink)
        bench.board.setPower(true)
        try #require(console.waitFor("autoboot:  2 ") != nil)
        try console.type(" ")
        try #require(console.waitFor("=> ") != nil)
        let boot = UBootCommand("booti 0x40400000 - ${fdtcontroladdr}", kind: .boot)
        try console.type(boot.text + "\n")
        let refused = try #require(console.waitFor("=> "))
        #expect(refused.contains("Bad Linux ARM64 Image magic!\r\n"))
        #expect(UBootAnswer.judge(boot, output: refused) == .bootFailed("Bad Linux ARM64 Image magic!"))
        try console.type("fastboot 0\n")
        #expect(console.waitFor("=> ") == "fastboot 0\r\nUnknown command 'fastboot' - try 'help'\r\n=> ")
    }

    @Test func powerOffStopsOutputAtOnceAndPowerOnStartsAgainFromTheBanner() throws {
        let bench = try Bench()
        defer { bench.stop() }
        let console = try bench.bootloaderWithKernelLoaded()
        try console.type("booti 0x40400000 - ${fdtcontroladdr}\n")
        try #require(console.waitFor("Linux version") != nil)
        bench.board.setPower(false)
        #expect(!bench.board.isPowered)
        // Only what was already written before the power went off (a few 10 ms chunks) follows.
        let afterPowerOff = console.readFor(seconds: 0.5)
        #expect(afterPowerOff.count < 600, "\(afterPowerOff.count) bytes after power off")
        #expect(console.readFor(seconds: 0.3).isEmpty)
        #expect(!console.text.contains("Run /init"))
        console.skipReceived()
        bench.board.setPower(true)
        let banner = try #require(console.waitFor("Hit any key to stop autoboot:  2 "))
        #expect(banner.hasPrefix("\r\n\r\nU-Boot 2023.01"))
    }

    @Test func whatNoReaderReadWhileOffIsDroppedAtPowerOn() throws {
        let bench = try Bench()
        defer { bench.stop() }
        bench.board.setPower(true)
        Thread.sleep(forTimeInterval: 0.3)
        bench.board.setPower(false)
        bench.board.setPower(true)
        let console = try SerialConsoleReader(path: bench.board.consoleLink)
        let banner = try #require(console.waitFor("Hit any key to stop autoboot:  2 "))
        #expect(banner.hasPrefix("\r\n\r\nU-Boot 2023.01"), "the first boot's banner was dropped")
        #expect(banner.components(separatedBy: "U-Boot 2023.01").count == 2)
    }

    // MARK: Failure modes

    @Test func panickingBoardPrintsTheRecordedPanicAndThenNothing() throws {
        let bench = try Bench(failure: .panic)
        defer { bench.stop() }
        let console = try bench.bootloaderWithKernelLoaded()
        try console.type("booti 0x40400000 - ${fdtcontroladdr}\n")
        let kernel = try #require(console.waitFor("Kernel panic - not syncing: Attempted to kill init!"))
        #expect(kernel.contains("Run /init as init process\r\nbootfarm: init exiting\r\n"))
        #expect(console.waitFor("---[ end Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100 ]---\r\n") != nil)
        #expect(console.readFor(seconds: 0.5).isEmpty)
        #expect(!console.text.contains("/ # "))
    }

    @Test func hangingBoardStopsPartwayThroughTheKernel() throws {
        let bench = try Bench(failure: .hang)
        defer { bench.stop() }
        let console = try bench.bootloaderWithKernelLoaded()
        try console.type("booti 0x40400000 - ${fdtcontroladdr}\n")
        try #require(console.waitFor("Linux version") != nil)
        console.readUntilQuiet(quietSeconds: 0.5)
        #expect(console.text.hasSuffix("\r\n"))
        #expect(console.text.contains("NUMA"))
        #expect(!console.text.contains("Run /init"))
        #expect(console.readFor(seconds: 0.5).isEmpty)
        #expect(bench.board.isPowered)
        try console.type("\n")
        #expect(console.readFor(seconds: 0.2).isEmpty, "a hung kernel echoes nothing")
    }

    @Test func boardWithoutBootloaderPrintsNothing() throws {
        let bench = try Bench(failure: .noBootloader)
        defer { bench.stop() }
        let console = try SerialConsoleReader(path: bench.board.consoleLink)
        bench.board.setPower(true)
        #expect(bench.board.isPowered)
        #expect(console.readFor(seconds: 1.5).isEmpty)
        try console.type(" ")
        #expect(console.readFor(seconds: 0.2).isEmpty)
    }

    @Test func consoleDisconnectClosesThePTYPartwayThroughTheKernelUntilThePowerSwitches() throws {
        let bench = try Bench(failure: .consoleDisconnect)
        defer { bench.stop() }
        #expect(bench.board.devicePath != nil)
        let console = try bench.bootloaderWithKernelLoaded()
        try console.type("booti 0x40400000 - ${fdtcontroladdr}\n")
        try #require(console.waitFor("Linux version") != nil)
        console.readUntilQuiet(quietSeconds: 3)
        #expect(console.isHungUp, "the reader sees end of file or EIO")
        #expect(!console.text.contains("Run /init"))
        #expect(bench.board.devicePath == nil)
        #expect(!FileManager.default.fileExists(atPath: bench.board.consoleLink), "the adapter's link is gone")
        // Switching the power brings the adapter back, on a new PTY at the same path.
        bench.board.setPower(false)
        let newDevice = try #require(bench.board.devicePath)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: bench.board.consoleLink) == newDevice)
        let reopened = try SerialConsoleReader(path: bench.board.consoleLink)
        bench.board.setPower(true)
        #expect(reopened.waitFor("Hit any key to stop autoboot") != nil)
    }
}
