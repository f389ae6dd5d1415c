import Foundation
import Testing

/// A `bootfarm agent` running in the background, its output going to files.
final class BackgroundAgent {
    let process = Process()
    let outputFile: URL
    let errorFile: URL

    /// A short folder for this agent's TMPDIR: QEMU's Unix sockets live there, and socket paths
    /// are limited to 108 bytes.
    let scratch: URL

    init(_ arguments: [String], temporaryFolder: URL) throws {
        scratch = URL(fileURLWithPath: "/tmp/bfa-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        outputFile = temporaryFolder.appendingPathComponent("agent-\(UUID().uuidString).out")
        errorFile = temporaryFolder.appendingPathComponent("agent-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        process.executableURL = Harness.binary
        process.arguments = arguments
        process.currentDirectoryURL = Harness.repositoryRoot
        var environment = ProcessInfo.processInfo.environment
        // QEMU's sockets and logs live under TMPDIR: the test finds this agent's emulators by it.
        environment["TMPDIR"] = scratch.path
        process.environment = environment
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        process.standardInput = FileHandle.nullDevice
        try process.run()
    }

    var standardOutput: String { (try? String(contentsOf: outputFile, encoding: .utf8)) ?? "" }
    var standardError: String { (try? String(contentsOf: errorFile, encoding: .utf8)) ?? "" }

    /// Waits until standard output or error contains `text`.
    func waitFor(_ text: String, seconds: Double = 120) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if standardOutput.contains(text) || standardError.contains(text) { return true }
            if !process.isRunning { return standardOutput.contains(text) || standardError.contains(text) }
            usleep(100_000)
        }
        return false
    }

    func waitForExit(seconds: Double = 120) -> Int32? {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(50_000) }
        if process.isRunning {
            process.terminate()
            return nil
        }
        return process.terminationStatus
    }
}

@Suite("the lab agent: queue, scheduling, recovery, tests after boot", .serialized)
struct AgentCommandTests {
    /// A lab of `count` QEMU arm64 boards booting directly (the fastest real boots here).
    func lab(boards count: Int) throws -> URL {
        var yaml = "name: agent-lab\nboard_types: ../boards\nboards:\n"
        for index in 1...count { yaml += "  a\(index):\n    type: qemu-arm64\n    power: {kind: qemu}\n    console: {kind: qemu-pty}\n" }
        // The board types are copied beside the lab: their health check points at the kit here.
        yaml += "health_checks:\n  qemu-arm64:\n    kernel: \(try Harness.kitFile("arm64/Image"))\n"
        yaml += "    ramdisk: \(try Harness.kitFile("arm64/ramdisk-good.cpio.gz"))\n"
        return try Harness.labFile(yaml)
    }

    func jobFile(in folder: URL, name: String, _ yaml: String) throws -> String {
        let file = folder.appendingPathComponent(name)
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    /// A job whose ramdisk hangs in user space: it runs until canceled.
    func hangingJob(in folder: URL) throws -> String {
        try jobFile(
            in: folder, name: "hang.yaml",
            """
            board: a1
            kernel: \(try Harness.kitFile("arm64/Image"))
            ramdisk: \(try Harness.kitFile("arm64/ramdisk-hang.cpio.gz"))
            timeouts: {userspace: 300}
            """)
    }

    func events(_ output: String) throws -> [[String: Any]] {
        try output.split(separator: "\n").map { try Harness.jsonObject(String($0)) }
    }

    func goodJob(priority: Int = 0, extra: String = "") throws -> String {
        """
        board_type: qemu-arm64
        kernel: \(try Harness.kitFile("arm64/Image"))
        ramdisk: \(try Harness.kitFile("arm64/ramdisk-good.cpio.gz"))
        priority: \(priority)
        revision: {tree: mainline, branch: master, describe: v6.1-agent}
        \(extra)
        """
    }

    @Test func threeBoardsRunNineJobsOneAtATimeEachAndHighPriorityFirst() throws {
        let labFile = try lab(boards: 3)
        let folder = labFile.deletingLastPathComponent()
        let database = folder.appendingPathComponent("store.sqlite").path
        let low = try jobFile(in: folder, name: "low.yaml", try goodJob(priority: 0))
        let high = try jobFile(in: folder, name: "high.yaml", try goodJob(priority: 10))
        var highIDs: [Int] = []
        for index in 0..<9 {
            let submit = try Harness.run(["job", "submit", index < 6 ? low : high, "--lab", labFile.path, "--db", database, "--quiet"])
            #expect(submit.exitCode == 0, "\(submit.standardError)")
            if index >= 6 { highIDs.append(Int(submit.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1) }
        }
        let agent = try Harness.run(["agent", "--lab", labFile.path, "--db", database, "--exit-when-idle", "--json"], timeoutSeconds: 400)
        #expect(agent.exitCode == 0, "\(agent.standardError)")
        let log = try events(agent.standardOutput)

        // One job per board at a time: per board, starts and finishes alternate.
        var open: [String: Bool] = [:]
        var perBoard: [String: Int] = [:]
        for event in log {
            guard let board = event["board"] as? String else { continue }
            switch event["event"] as? String {
            case "attempt_started":
                #expect(open[board] != true, "two jobs overlap on \(board)")
                open[board] = true
                perBoard[board, default: 0] += 1
            case "attempt_finished":
                #expect(open[board] == true)
                open[board] = false
            default: break
            }
        }
        #expect(perBoard == ["a1": 3, "a2": 3, "a3": 3])
        // The three high-priority jobs were the first to start, though submitted last.
        let firstStarted = log.filter { $0["event"] as? String == "attempt_started" }.prefix(3).compactMap { $0["job"] as? Int }
        #expect(Set(firstStarted) == Set(highIDs))

        let list = try Harness.run(["job", "list", "--db", database, "--json"])
        let jobs = try #require(try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [[String: Any]])
        #expect(jobs.count == 9)
        #expect(jobs.allSatisfy { $0["state"] as? String == "done" && $0["result"] as? String == "pass" })
        let status = try Harness.jsonObject(
            try Harness.run(["lab", "status", "--lab", labFile.path, "--db", database, "--json"]).standardOutput)
        let boards = try #require(status["boards"] as? [[String: Any]])
        #expect(boards.allSatisfy { $0["state"] as? String == "idle" && $0["powered_since"] == nil })
    }

    @Test func testsAfterBootCaptureExitCodesDespiteKernelMessagesAndReadLAVASignals() throws {
        let labFile = try lab(boards: 1)
        let folder = labFile.deletingLastPathComponent()
        let database = folder.appendingPathComponent("store.sqlite").path
        let job = try jobFile(
            in: folder, name: "tests.yaml",
            try goodJob(
                extra: """
                    tests:
                      - {name: passes, command: "uname -m"}
                      - {name: fails, command: "ls /no-such-dir"}
                      - name: interleaved
                        command: "echo before; echo '<3>bootfarm: a kernel message' > /dev/kmsg; echo after; exit 3"
                      - name: lava
                        command: "echo '<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=probe RESULT=pass MEASUREMENT=1.5 UNITS=s>'; echo '<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=other RESULT=fail>'"
                    """))
        let submit = try Harness.run(["job", "submit", job, "--lab", labFile.path, "--db", database, "--quiet"])
        #expect(submit.exitCode == 0, "\(submit.standardError)")
        let id = submit.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines)
        let agent = try Harness.run(["agent", "--lab", labFile.path, "--db", database, "--exit-when-idle"], timeoutSeconds: 300)
        #expect(agent.exitCode == 0, "\(agent.standardError)")

        let show = try Harness.jsonObject(try Harness.run(["job", "show", id, "--db", database, "--json"]).standardOutput)
        #expect(show["result"] as? String == "pass")
        let attempt = try #require((show["attempts"] as? [[String: Any]])?.first)
        #expect(attempt["stage"] as? String == "tests")
        let tests = try #require(attempt["tests"] as? [[String: Any]])
        let results = Dictionary(uniqueKeysWithValues: tests.map { ($0["name"] as? String ?? "", $0["result"] as? String ?? "") })
        #expect(results == ["passes": "pass", "fails": "fail", "interleaved": "fail", "lava": "pass", "probe": "pass", "other": "fail"])
        let interleaved = try #require(tests.first { $0["name"] as? String == "interleaved" })
        #expect((interleaved["output"] as? String)?.contains("before") == true)
        #expect((interleaved["output"] as? String)?.contains("after") == true)
        let probe = try #require(tests.first { $0["name"] as? String == "probe" })
        #expect(probe["measurement"] as? Double == 1.5 && probe["units"] as? String == "s")
        let passes = try #require(tests.first { $0["name"] as? String == "passes" })
        #expect((passes["output"] as? String)?.contains("aarch64") == true)
    }

    @Test func killingTheAgentMidBootIsRecoveredOnRestart() throws {
        let labFile = try lab(boards: 1)
        let folder = labFile.deletingLastPathComponent()
        let database = folder.appendingPathComponent("store.sqlite").path
        let hanging = try hangingJob(in: folder)
        let good = try jobFile(in: folder, name: "good.yaml", try goodJob())
        #expect(try Harness.run(["job", "submit", hanging, "--lab", labFile.path, "--db", database]).exitCode == 0)

        let agent = try BackgroundAgent(["agent", "--lab", labFile.path, "--db", database, "--verbose"], temporaryFolder: folder)
        #expect(agent.waitFor(" userspace"), "\(agent.standardError)")
        #expect(!Harness.liveProcesses(containing: agent.scratch.path + "/bootfarm-").isEmpty, "no QEMU running")
        kill(agent.process.processIdentifier, SIGKILL)
        agent.process.waitUntilExit()
        // The emulator dies with the agent.
        let deadline = Date().addingTimeInterval(10)
        while !Harness.liveProcesses(containing: agent.scratch.path + "/bootfarm-").isEmpty && Date() < deadline { usleep(100_000) }
        #expect(Harness.liveProcesses(containing: agent.scratch.path + "/bootfarm-").isEmpty, "QEMU outlived the killed agent")
        let before = try Harness.jsonObject(
            try Harness.run(["lab", "status", "--lab", labFile.path, "--db", database, "--json"]).standardOutput)
        #expect((before["boards"] as? [[String: Any]])?.first?["state"] as? String == "busy")

        #expect(try Harness.run(["job", "submit", good, "--lab", labFile.path, "--db", database]).exitCode == 0)
        let restart = try Harness.run(
            ["agent", "--lab", labFile.path, "--db", database, "--exit-when-idle", "--json"], timeoutSeconds: 300)
        #expect(restart.exitCode == 0, "\(restart.standardError)")
        let first = try Harness.jsonObject(try Harness.run(["job", "show", "1", "--db", database, "--json"]).standardOutput)
        #expect(first["result"] as? String == "error")
        let attempt = try #require((first["attempts"] as? [[String: Any]])?.first)
        #expect(attempt["status"] as? String == "error" && attempt["reason"] as? String == "agent restarted")
        let second = try Harness.jsonObject(try Harness.run(["job", "show", "2", "--db", database, "--json"]).standardOutput)
        #expect(second["result"] as? String == "pass")
        // The board was health-checked (its boot was interrupted) before it took job 2.
        #expect(restart.standardOutput.contains("\"event\":\"attempt_started\""))
        let after = try Harness.jsonObject(
            try Harness.run(["lab", "status", "--lab", labFile.path, "--db", database, "--json"]).standardOutput)
        let board = try #require((after["boards"] as? [[String: Any]])?.first)
        #expect(board["state"] as? String == "idle" && board["powered_since"] == nil && board["health"] as? String == "good")
    }

    @Test func sigtermCancelsRunningJobsPowersBoardsOffAndKeepsTheQueue() throws {
        let labFile = try lab(boards: 1)
        let folder = labFile.deletingLastPathComponent()
        let database = folder.appendingPathComponent("store.sqlite").path
        let hanging = try hangingJob(in: folder)
        #expect(try Harness.run(["job", "submit", hanging, "--lab", labFile.path, "--db", database]).exitCode == 0)
        #expect(try Harness.run(["job", "submit", hanging, "--lab", labFile.path, "--db", database]).exitCode == 0)
        let agent = try BackgroundAgent(["agent", "--lab", labFile.path, "--db", database, "--verbose"], temporaryFolder: folder)
        #expect(agent.waitFor(" userspace"), "\(agent.standardError)")
        kill(agent.process.processIdentifier, SIGTERM)
        #expect(agent.waitForExit(seconds: 60) == 0, "\(agent.standardError)")
        #expect(Harness.liveProcesses(containing: agent.scratch.path + "/bootfarm-").isEmpty, "QEMU outlived the agent")
        let first = try Harness.jsonObject(try Harness.run(["job", "show", "1", "--db", database, "--json"]).standardOutput)
        #expect(first["state"] as? String == "canceled")
        #expect((first["attempts"] as? [[String: Any]])?.first?["status"] as? String == "canceled")
        let second = try Harness.jsonObject(try Harness.run(["job", "show", "2", "--db", database, "--json"]).standardOutput)
        #expect(second["state"] as? String == "queued")
        let status = try Harness.jsonObject(
            try Harness.run(["lab", "status", "--lab", labFile.path, "--db", database, "--json"]).standardOutput)
        let board = try #require((status["boards"] as? [[String: Any]])?.first)
        #expect(board["state"] as? String == "idle" && board["powered_since"] == nil)
        #expect(status["agent_running"] as? Bool == false)
    }

    @Test func cancelingAQueuedJobAndARunningOne() throws {
        let labFile = try lab(boards: 1)
        let folder = labFile.deletingLastPathComponent()
        let database = folder.appendingPathComponent("store.sqlite").path
        let hanging = try hangingJob(in: folder)
        for _ in 0..<2 { #expect(try Harness.run(["job", "submit", hanging, "--lab", labFile.path, "--db", database]).exitCode == 0) }
        #expect(try Harness.run(["job", "cancel", "2", "--db", database]).standardOutput.contains("job 2: canceled"))
        let agent = try BackgroundAgent(
            ["agent", "--lab", labFile.path, "--db", database, "--verbose", "--exit-when-idle"], temporaryFolder: folder)
        #expect(agent.waitFor(" userspace"), "\(agent.standardError)")
        #expect(try Harness.run(["job", "cancel", "1", "--db", database]).standardOutput.contains("cancel requested"))
        #expect(agent.waitForExit(seconds: 60) == 0, "\(agent.standardError)")
        let first = try Harness.jsonObject(try Harness.run(["job", "show", "1", "--db", database, "--json"]).standardOutput)
        #expect(first["state"] as? String == "canceled" && first["summary"] as? String == "canceled by request")
        #expect(try Harness.run(["job", "cancel", "9", "--db", database]).exitCode == 2)
    }

    @Test func badJobFilesAreRefusedAndNothingIsQueued() throws {
        let labFile = try lab(boards: 1)
        let folder = labFile.deletingLastPathComponent()
        let database = folder.appendingPathComponent("store.sqlite").path
        let kernel = try Harness.kitFile("arm64/Image")
        let cases: [(String, String)] = [
            ("board_type: qemu-x86-uboot\nkernel: \(kernel)\n", "no board of type 'qemu-x86-uboot'"),
            ("board_type: qemu-arm64\nkernel: /no/such/Image\n", "no such file"),
            ("board_type: qemu-arm64\nkernel: \(kernel)\ntimeout_s: -1\n", "positive"),
            ("board: a1\nboard_type: qemu-arm64-uboot\nkernel: \(kernel)\n", "contradicts"),
        ]
        for (index, (yaml, words)) in cases.enumerated() {
            let file = try jobFile(in: folder, name: "bad\(index).yaml", yaml)
            let result = try Harness.run(["job", "submit", file, "--lab", labFile.path, "--db", database])
            #expect(result.exitCode == 2)
            #expect(result.standardError.contains("bad\(index).yaml:"), "\(result.standardError)")
            #expect(result.standardError.contains(words), "\(result.standardError)")
        }
        let list = try Harness.run(["job", "list", "--db", database])
        #expect(list.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "no jobs")
        let contradiction = try Harness.run(["job", "submit", "x.yaml", "--lab", labFile.path, "--json", "--quiet"])
        #expect(contradiction.exitCode == 2)
    }

    @Test func aKernelFailureIsNotRetriedButConfirmedWhenAskedAndAJobTimeoutFails() throws {
        let labFile = try lab(boards: 1)
        let folder = labFile.deletingLastPathComponent()
        let database = folder.appendingPathComponent("store.sqlite").path
        let panic = """
            board: a1
            kernel: \(try Harness.kitFile("arm64/Image"))
            ramdisk: \(try Harness.kitFile("arm64/ramdisk-panic.cpio.gz"))
            retries: 2
            """
        let once = try jobFile(in: folder, name: "panic.yaml", panic)
        let confirmed = try jobFile(in: folder, name: "confirm.yaml", panic + "\nconfirm_failures: 2\n")
        let timeout = try jobFile(
            in: folder, name: "timeout.yaml",
            """
            board: a1
            kernel: \(try Harness.kitFile("arm64/Image"))
            ramdisk: \(try Harness.kitFile("arm64/ramdisk-hang.cpio.gz"))
            timeouts: {userspace: 300}
            timeout_s: 4
            """)
        for file in [once, confirmed, timeout] {
            #expect(try Harness.run(["job", "submit", file, "--lab", labFile.path, "--db", database]).exitCode == 0)
        }
        let agent = try Harness.run(["agent", "--lab", labFile.path, "--db", database, "--exit-when-idle"], timeoutSeconds: 300)
        #expect(agent.exitCode == 0, "\(agent.standardError)")
        let first = try Harness.jsonObject(try Harness.run(["job", "show", "1", "--db", database, "--json"]).standardOutput)
        #expect(first["result"] as? String == "fail" && first["attempt_count"] as? Int == 1, "\(first)")
        let second = try Harness.jsonObject(try Harness.run(["job", "show", "2", "--db", database, "--json"]).standardOutput)
        #expect(second["result"] as? String == "fail" && second["summary"] as? String == "fail confirmed 3/3", "\(second)")
        #expect((second["attempts"] as? [[String: Any]])?.count == 3)
        let third = try Harness.jsonObject(try Harness.run(["job", "show", "3", "--db", database, "--json"]).standardOutput)
        #expect(third["result"] as? String == "fail", "\(third)")
        let reason = (third["attempts"] as? [[String: Any]])?.first?["reason"] as? String ?? ""
        #expect(reason.hasPrefix("job timed out after 4 s"), "\(reason)")
        // Kernel failures are not the board's fault: it stays in service.
        let status = try Harness.jsonObject(
            try Harness.run(["lab", "status", "--lab", labFile.path, "--db", database, "--json"]).standardOutput)
        #expect((status["boards"] as? [[String: Any]])?.first?["health"] as? String == "good")
    }

    @Test func aBoardInMaintenanceTakesNoJobsUntilItIsBack() throws {
        let labFile = try lab(boards: 1)
        let folder = labFile.deletingLastPathComponent()
        let database = folder.appendingPathComponent("store.sqlite").path
        let good = try jobFile(in: folder, name: "good.yaml", try goodJob())
        #expect(try Harness.run(["lab", "board", "a1", "--lab", labFile.path, "--maintenance", "on", "--db", database]).exitCode == 0)
        #expect(try Harness.run(["job", "submit", good, "--lab", labFile.path, "--db", database]).exitCode == 0)
        let idle = try Harness.run(["agent", "--lab", labFile.path, "--db", database, "--exit-when-idle"], timeoutSeconds: 60)
        #expect(idle.exitCode == 0, "\(idle.standardError)")
        #expect(
            try Harness.jsonObject(try Harness.run(["job", "show", "1", "--db", database, "--json"]).standardOutput)["state"] as? String
                == "queued")
        let text = try Harness.run(["lab", "status", "--lab", labFile.path, "--db", database])
        #expect(text.standardOutput.contains("maintenance"), "\(text.standardOutput)")
        #expect(try Harness.run(["lab", "board", "a1", "--lab", labFile.path, "--maintenance", "off", "--db", database]).exitCode == 0)
        let busy = try Harness.run(["agent", "--lab", labFile.path, "--db", database, "--exit-when-idle"], timeoutSeconds: 120)
        #expect(busy.exitCode == 0, "\(busy.standardError)")
        #expect(
            try Harness.jsonObject(try Harness.run(["job", "show", "1", "--db", database, "--json"]).standardOutput)["result"] as? String
                == "pass")
        #expect(try Harness.run(["lab", "board", "a9", "--lab", labFile.path, "--maintenance", "on", "--db", database]).exitCode == 2)
        #expect(try Harness.run(["lab", "board", "a1", "--lab", labFile.path, "--maintenance", "maybe", "--db", database]).exitCode == 2)
    }

    @Test func aRelayTimeoutIsRetriedOnAnotherBoardWhichIsHealthCheckedAndTakenOffline() throws {
        let folder = try Harness.temporaryFolder()
        let simulation = try ScriptedSimulation(boards: 3, failures: ["relay-timeout=fake-002", "panic=fake-003"], in: folder)
        // Two failed health checks take a board offline here (the default is three).
        try (try String(contentsOfFile: simulation.labFile, encoding: .utf8) + "agent: {health_failures_offline: 2}\n")
            .write(toFile: simulation.labFile, atomically: true, encoding: .utf8)
        let database = folder.appendingPathComponent("store.sqlite").path
        let kernel = folder.appendingPathComponent("Image")
        try Data(repeating: 0x4B, count: 100_000).write(to: kernel)
        let anyBoard = try jobFile(in: folder, name: "any.yaml", "board_type: fake-arm64-uboot\nkernel: \(kernel.path)\n")
        let panicking = try jobFile(in: folder, name: "panic.yaml", "board: fake-003\nkernel: \(kernel.path)\n")
        // Jobs 1 and 2 start on fake-001 and fake-002; job 3 waits for fake-003.
        for file in [anyBoard, anyBoard, panicking] {
            #expect(try Harness.run(["job", "submit", file, "--lab", simulation.labFile, "--db", database]).exitCode == 0)
        }
        let agent = try Harness.run(["agent", "--lab", simulation.labFile, "--db", database, "--exit-when-idle"], timeoutSeconds: 300)
        #expect(agent.exitCode == 0, "\(agent.standardError)")

        let retried = try Harness.jsonObject(try Harness.run(["job", "show", "2", "--db", database, "--json"]).standardOutput)
        #expect(retried["result"] as? String == "pass", "\(retried)")
        let attempts = try #require(retried["attempts"] as? [[String: Any]])
        #expect(attempts.map { $0["board"] as? String ?? "" } == ["fake-002", "fake-001"])
        #expect(attempts.map { $0["status"] as? String ?? "" } == ["error", "pass"])
        #expect((attempts.first?["reason"] as? String ?? "").contains("Numato relay 'fake-002'"))
        // The failed attempt is kept but not counted.
        let listed = try Harness.run(["results", "list", "--db", database, "--json"])
        #expect(!listed.standardOutput.contains(attempts.first?["id"] as? String ?? "-"), "a superseded attempt is listed")

        let panic = try Harness.jsonObject(try Harness.run(["job", "show", "3", "--db", database, "--json"]).standardOutput)
        #expect(panic["result"] as? String == "fail" && panic["attempt_count"] as? Int == 1, "\(panic)")

        let status = try Harness.jsonObject(
            try Harness.run(["lab", "status", "--lab", simulation.labFile, "--db", database, "--json"]).standardOutput)
        let boards = Dictionary(
            uniqueKeysWithValues: try #require(status["boards"] as? [[String: Any]]).map { ($0["board"] as? String ?? "", $0) })
        #expect(boards["fake-002"]?["state"] as? String == "offline", "\(boards)")
        #expect(boards["fake-002"]?["health_failures"] as? Int == 2)
        #expect((boards["fake-002"]?["note"] as? String ?? "").contains("offline after 2 failed health checks"))
        #expect(boards["fake-001"]?["state"] as? String == "idle" && boards["fake-003"]?["health"] as? String == "good")
        #expect(agent.standardError.contains("fake-002: health check"), "\(agent.standardError)")
        withExtendedLifetime(simulation) {}
    }
}
