import FarmCore
import FarmStore
import Foundation
import Testing

/// Real boots: QEMU boards, real U-Boot fetching real Debian kernels over TFTP. Serialized so
/// two emulators never compete for the two cores and distort the stage timeouts.
@Suite("booting QEMU boards end to end", .serialized)
struct QEMUBootTests {
    struct Boot {
        var result: CommandResult
        var record: [String: Any]
        var database: String
    }

    func boot(_ board: String, kernel: String, ramdisk: String?, lab: String = "labs/sim.yaml", extra: [String] = []) throws -> Boot {
        let database = try Harness.temporaryFolder().appendingPathComponent("results.sqlite").path
        var arguments = ["boot", "--lab", lab, "--board", board, "--kernel", kernel, "--db", database, "--json"]
        if let ramdisk { arguments += ["--ramdisk", ramdisk] }
        arguments += ["--tree", "debian", "--branch", "bookworm", "--describe", "v6.1-test", "--commit", "abc123", "--defconfig", "debian"]
        let result = try Harness.run(arguments + extra)
        let record = try Harness.jsonObject(result.standardOutput)
        return Boot(result: result, record: record, database: database)
    }

    func expectNoEmulatorLeft(_ boot: Boot) throws {
        let id = try #require(boot.record["id"] as? String)
        #expect(Harness.liveProcesses(containing: "bootfarm-\(id)").isEmpty, "a QEMU of boot \(id) is still running")
    }

    @Test func arm64KernelBootsThroughUBootOverTFTPAndIsRecordedWithItsLog() throws {
        let boot = try boot(
            "arm64-uboot-1", kernel: try Harness.kitFile("arm64/Image"), ramdisk: try Harness.kitFile("arm64/ramdisk-good.cpio.gz"))
        #expect(boot.result.exitCode == 0, "\(boot.result.standardError)")
        #expect(boot.record["status"] as? String == "pass")
        #expect(boot.record["stage"] as? String == "prompt")
        #expect((boot.record["boot_time_s"] as? Double ?? 0) > 0)
        #expect(
            boot.record["kernel_image_size"] as? Int
                == Int(try FileManager.default.attributesOfItem(atPath: try Harness.kitFile("arm64/Image"))[.size] as? NSNumber ?? 0))
        #expect(boot.result.standardError.contains("> tftpboot"), "progress shows the bootloader commands")
        try expectNoEmulatorLeft(boot)

        let store = try ResultStore(path: boot.database)
        let id = try #require(boot.record["id"] as? String)
        let stored = try #require(try store.boot(id: id))
        #expect(stored.status == .pass)
        #expect(stored.revision.describe == "v6.1-test")
        #expect(stored.boardType == "qemu-arm64-uboot")
        #expect(stored.build.arch == "arm64")
        let stageTimes = stored.stageTimes
        let bootloader = try #require(stageTimes[.bootloader])
        let kernel = try #require(stageTimes[.kernel])
        let userspace = try #require(stageTimes[.userspace])
        let prompt = try #require(stageTimes[.prompt])
        #expect(bootloader < kernel && kernel < userspace && userspace <= prompt)
        let log = try #require(try store.log(bootID: id))
        let text = String(decoding: log.bytes, as: UTF8.self)
        #expect(text.contains("Hit any key to stop autoboot"))
        #expect(text.contains("Bytes transferred"))
        #expect(text.contains("Linux version"))
        #expect(text.contains("bootfarm: userspace up"))
        #expect(log.lineTimes.count == log.lineCount)
        #expect(log.lineTimes == log.lineTimes.sorted(), "line times never go back")
    }

    @Test func x86KernelBootsThroughUBootWithZboot() throws {
        let boot = try boot(
            "x86-uboot-1", kernel: try Harness.kitFile("x86_64/bzImage"), ramdisk: try Harness.kitFile("x86_64/ramdisk-good.cpio.gz"))
        #expect(boot.result.exitCode == 0, "\(boot.result.standardError)")
        #expect(boot.record["status"] as? String == "pass")
        #expect(boot.record["arch"] as? String == "x86_64")
        #expect((boot.record["boot_time_s"] as? Double ?? 0) > 0)
        #expect(boot.result.standardError.contains("> zboot"))
        try expectNoEmulatorLeft(boot)
    }

    @Test func arm64KernelBootsDirectlyInQEMU() throws {
        let boot = try boot(
            "arm64-direct-1", kernel: try Harness.kitFile("arm64/Image"), ramdisk: try Harness.kitFile("arm64/ramdisk-good.cpio.gz"))
        #expect(boot.result.exitCode == 0, "\(boot.result.standardError)")
        #expect(boot.record["status"] as? String == "pass")
        #expect(boot.record["stage"] as? String == "prompt")
        #expect((boot.record["boot_time_s"] as? Double ?? 0) > 0)
        try expectNoEmulatorLeft(boot)
    }

    @Test func aConsoleOverTCPWorksLikeAPTY() throws {
        let boot = try boot(
            "arm64-uboot-tcp", kernel: try Harness.kitFile("arm64/Image"), ramdisk: try Harness.kitFile("arm64/ramdisk-good.cpio.gz"))
        #expect(boot.result.exitCode == 0, "\(boot.result.standardError)")
        #expect(boot.record["status"] as? String == "pass")
        try expectNoEmulatorLeft(boot)
    }

    @Test func aPanickingRamdiskFailsInUserspaceWithThePanicAsReason() throws {
        let boot = try boot(
            "arm64-uboot-1", kernel: try Harness.kitFile("arm64/Image"), ramdisk: try Harness.kitFile("arm64/ramdisk-panic.cpio.gz"))
        #expect(boot.result.exitCode == 1, "\(boot.result.standardError)")
        #expect(boot.record["status"] as? String == "fail")
        #expect(boot.record["stage"] as? String == "userspace")
        #expect((boot.record["reason"] as? String ?? "").contains("Kernel panic"))
        #expect((boot.record["reason"] as? String ?? "").contains("Attempted to kill init!"))
        try expectNoEmulatorLeft(boot)
    }

    @Test func aHangingRamdiskFailsWithATimeoutNamingTheStage() throws {
        let boot = try boot(
            "arm64-direct-1", kernel: try Harness.kitFile("arm64/Image"), ramdisk: try Harness.kitFile("arm64/ramdisk-hang.cpio.gz"),
            extra: ["--timeout", "userspace=5"])
        #expect(boot.result.exitCode == 1, "\(boot.result.standardError)")
        #expect(boot.record["status"] as? String == "fail")
        #expect(boot.record["stage"] as? String == "userspace")
        #expect((boot.record["reason"] as? String ?? "").hasPrefix("timeout in userspace after 5 s"))
        try expectNoEmulatorLeft(boot)
    }

    @Test func aGarbageKernelImageFailsInTheBootloaderWithUBootsComplaint() throws {
        let folder = try Harness.temporaryFolder()
        let garbage = folder.appendingPathComponent("Image")
        var generator = SystemRandomNumberGenerator()
        try Data((0..<2_000_000).map { _ in UInt8.random(in: 0...255, using: &generator) }).write(to: garbage)
        let boot = try boot("arm64-uboot-1", kernel: garbage.path, ramdisk: try Harness.kitFile("arm64/ramdisk-good.cpio.gz"))
        #expect(boot.result.exitCode == 1, "\(boot.result.standardError)")
        #expect(boot.record["status"] as? String == "fail")
        #expect(boot.record["stage"] as? String == "bootloader")
        #expect(boot.record["reason"] as? String == "Bad Linux ARM64 Image magic!")
        try expectNoEmulatorLeft(boot)
    }

    @Test func aFileMissingFromTheTFTPRootIsAnInfrastructureError() throws {
        let roots = try Harness.temporaryFolder()
        let lab = try Harness.labFile(
            """
            name: broken
            boards:
              b1:
                type: qemu-arm64-uboot
                tftp_root: \(roots.appendingPathComponent("staged").path)
                power:
                  kind: qemu
                  tftp_root: \(roots.appendingPathComponent("served").path)
                console: {kind: qemu-pty}
            """)
        try FileManager.default.createDirectory(at: roots.appendingPathComponent("served"), withIntermediateDirectories: true)
        let boot = try boot(
            "b1", kernel: try Harness.kitFile("arm64/Image"), ramdisk: try Harness.kitFile("arm64/ramdisk-good.cpio.gz"), lab: lab.path)
        #expect(boot.result.exitCode == 3, "\(boot.result.standardError)")
        #expect(boot.record["status"] as? String == "error")
        #expect(boot.record["stage"] as? String == "bootloader")
        #expect((boot.record["reason"] as? String ?? "").contains("TFTP error"))
        try expectNoEmulatorLeft(boot)
    }

    @Test func aMissingQEMUBinaryIsAnInfrastructureError() throws {
        let lab = try Harness.labFile(
            """
            name: broken
            boards:
              b1:
                type: qemu-arm64
                power: {kind: qemu, binary: /nonexistent/qemu-system-aarch64}
                console: {kind: qemu-pty}
            """)
        let boot = try boot("b1", kernel: try Harness.kitFile("arm64/Image"), ramdisk: nil, lab: lab.path)
        #expect(boot.result.exitCode == 3)
        #expect(boot.record["status"] as? String == "error")
        #expect((boot.record["reason"] as? String ?? "").contains("/nonexistent/qemu-system-aarch64 not found"))
    }

    @Test func aConsoleThatCannotBeOpenedIsAnInfrastructureErrorAndLeavesNoEmulator() throws {
        let lab = try Harness.labFile(
            """
            name: broken
            boards:
              b1:
                type: qemu-arm64
                power: {kind: qemu}
                console: {kind: serial, device: /dev/ttyNONESUCH7}
            """)
        let boot = try boot(
            "b1", kernel: try Harness.kitFile("arm64/Image"), ramdisk: try Harness.kitFile("arm64/ramdisk-good.cpio.gz"), lab: lab.path)
        #expect(boot.result.exitCode == 3)
        #expect(boot.record["status"] as? String == "error")
        #expect((boot.record["reason"] as? String ?? "").contains("cannot open console /dev/ttyNONESUCH7"))
        try expectNoEmulatorLeft(boot)
    }

    @Test func interruptingABootCancelsItPowersTheBoardOffAndRecordsIt() throws {
        let folder = try Harness.temporaryFolder()
        let database = folder.appendingPathComponent("results.sqlite").path
        let arguments = [
            "boot", "--lab", "labs/sim.yaml", "--board", "arm64-direct-1", "--kernel", try Harness.kitFile("arm64/Image"),
            "--ramdisk", try Harness.kitFile("arm64/ramdisk-hang.cpio.gz"), "--db", database, "--json",
        ]
        let result = try Harness.run(arguments) { pid in
            DispatchQueue.global().asyncAfter(deadline: .now() + 2.5) { kill(pid, SIGINT) }
        }
        #expect(result.exitCode == 130, "\(result.standardError)")
        let record = try Harness.jsonObject(result.standardOutput)
        #expect(record["status"] as? String == "canceled")
        let id = try #require(record["id"] as? String)
        #expect(Harness.liveProcesses(containing: "bootfarm-\(id)").isEmpty)
        let store = try ResultStore(path: database)
        #expect(try store.boot(id: id)?.status == .canceled)
    }
}
