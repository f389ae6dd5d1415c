import Foundation
import Testing

/// `bootfarm sim --boards N`: scripted fake boards behind simulated Numato relays, booted by
/// `bootfarm boot` through the real relay and console drivers.
@Suite("bootfarm sim --boards", .serialized)
struct SimCommandScriptedBoardsTests {
    @Test func scriptedBoardsPassPanicAndTimeOutTheirRelayThroughTheRealDrivers() throws {
        let folder = try Harness.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let labFile = folder.appendingPathComponent("labs/fake.yaml").path
        let runDirectory = folder.appendingPathComponent("run").path
        let simulation = Process()
        simulation.executableURL = Harness.binary
        simulation.arguments = [
            "sim", "--boards", "4", "--fail", "panic=fake-002", "--fail", "relay-timeout=fake-003", "--lab-out", labFile,
            "--run-directory", runDirectory,
        ]
        simulation.currentDirectoryURL = Harness.repositoryRoot
        let output = Pipe()
        simulation.standardOutput = output
        simulation.standardError = FileHandle.nullDevice
        try simulation.run()
        defer {
            if simulation.isRunning {
                kill(simulation.processIdentifier, SIGKILL)
                simulation.waitUntilExit()
            }
        }
        var seen = Data()
        let deadline = Date().addingTimeInterval(30)
        while !String(decoding: seen, as: UTF8.self).contains("sim: ready") {
            try #require(
                Date() < deadline && simulation.isRunning, "bootfarm sim did not get ready: \(String(decoding: seen, as: UTF8.self))")
            seen.append(output.fileHandleForReading.availableData)
        }
        let announced = String(decoding: seen, as: UTF8.self)
        #expect(announced.contains("sim: lab file \(labFile)\n"))
        #expect(announced.contains("sim: ready (4 boards); stop with Ctrl-C\n"))
        #expect(FileManager.default.fileExists(atPath: labFile))

        let kernel = folder.appendingPathComponent("Image")
        let ramdisk = folder.appendingPathComponent("ramdisk.cpio.gz")
        try Data(repeating: 0x4B, count: 200_000).write(to: kernel)
        try Data(repeating: 0x52, count: 40_000).write(to: ramdisk)
        let database = folder.appendingPathComponent("results.sqlite").path
        func boot(_ board: String) throws -> (result: CommandResult, record: [String: Any], seconds: Double) {
            let started = Date()
            let result = try Harness.run(
                [
                    "boot", "--lab", labFile, "--board", board, "--kernel", kernel.path, "--ramdisk", ramdisk.path, "--db", database,
                    "--json",
                ], timeoutSeconds: 60)
            let seconds = Date().timeIntervalSince(started)
            return (result, try Harness.jsonObject(result.standardOutput), seconds)
        }

        let good = try boot("fake-001")
        #expect(good.result.exitCode == 0, "\(good.result.standardError)")
        #expect(good.record["status"] as? String == "pass")
        #expect(good.record["stage"] as? String == "prompt")
        #expect(good.seconds < 10, "a scripted boot takes about 2 s, not \(good.seconds) s")

        let panic = try boot("fake-002")
        #expect(panic.result.exitCode == 1, "\(panic.result.standardError)")
        #expect(panic.record["status"] as? String == "fail")
        #expect((panic.record["reason"] as? String ?? "").contains("Kernel panic - not syncing: Attempted to kill init!"))

        let relay = try boot("fake-003")
        #expect(relay.result.exitCode == 3, "\(relay.result.standardError)")
        #expect(relay.record["status"] as? String == "error")
        #expect(relay.record["stage"] as? String == "power")
        let reason = relay.record["reason"] as? String ?? ""
        #expect(reason.contains("Numato relay 'fake-003'") && reason.contains("channel 2") && reason.contains("no answer"), "\(reason)")

        kill(simulation.processIdentifier, SIGINT)
        let stopDeadline = Date().addingTimeInterval(15)
        while simulation.isRunning && Date() < stopDeadline { usleep(50_000) }
        try #require(!simulation.isRunning, "bootfarm sim did not stop on SIGINT")
        #expect(simulation.terminationReason == .exit)
        #expect(simulation.terminationStatus == 0)
        let rest = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(rest.contains("sim: stopped"))
        #expect(!FileManager.default.fileExists(atPath: runDirectory + "/consoles/fake-001"), "console links are removed")
        #expect(!FileManager.default.fileExists(atPath: runDirectory + "/relays/numato-0"), "relay links are removed")
    }

    @Test func boardsAndLabContradictEachOther() throws {
        let result = try Harness.run(["sim", "--boards", "4", "--lab", "labs/sim-hw.yaml"], timeoutSeconds: 30)
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("--boards and --lab contradict each other"), "\(result.standardError)")
    }

    @Test(arguments: [
        (["--fail", "panic=fake-003"], "no board 'fake-003' among 2 scripted boards (fake-001 to fake-002)"),
        (["--fail", "meltdown=fake-001"], "unknown failure mode 'meltdown'"),
        (["--fail", "panic=fake-001", "--fail", "hang=fake-001"], "board 'fake-001' is given two failure modes"),
    ])
    func aBadFailureIsAUsageError(_ options: [String], _ words: String) throws {
        let result = try Harness.run(["sim", "--boards", "2"] + options, timeoutSeconds: 30)
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains(words), "\(result.standardError)")
    }
}
