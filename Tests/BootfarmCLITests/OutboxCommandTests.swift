import FarmCore
import FarmStore
import Foundation
import Testing

/// A lab store, a results server store with a token for the lab, and a port for the server.
struct SharingLab {
    let folder: URL
    let labFile: String
    let labStore: String
    let serverStore: String
    let port: Int
    let token: String
    var url: String { "http://127.0.0.1:\(port)" }

    /// A lab named `name` whose server: section (with `extra` settings) names the server's port
    /// and a token file beside the lab file.
    init(name: String = "upload-lab", server extra: String = "") throws {
        port = try Harness.closedPort()
        let file = try Harness.labFile(
            """
            name: \(name)
            board_types: ../boards
            boards:
              a1:
                type: qemu-arm64
                power: {kind: qemu}
                console: {kind: qemu-pty}
            server:
              url: http://127.0.0.1:\(port)
              token_file: lab.token
            \(extra)
            """)
        labFile = file.path
        folder = file.deletingLastPathComponent().deletingLastPathComponent()
        labStore = folder.appendingPathComponent("lab.sqlite").path
        serverStore = folder.appendingPathComponent("server.sqlite").path
        let created = try Harness.run(["token", "create", "--lab", name, "--db", serverStore])
        try #require(created.exitCode == 0, "\(created.standardError)")
        token = created.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        try (token + "\n").write(
            to: file.deletingLastPathComponent().appendingPathComponent("lab.token"), atomically: true, encoding: .utf8)
    }

    /// Imports `count` boots of `lab` with ids `PREFIX-N`, each with a console log of about 2 KB.
    func importBoots(_ count: Int, lab: String = "upload-lab", prefix: String = "boot") throws {
        let log = (0..<24).map { String(format: "[%5d.000000] Linux version 6.9.0 (builder@lab) #1 SMP PREEMPT\\n", $0) }.joined()
        let lines = (0..<count).map { index in
            let startedAt = ISOTimestamp.format(1_760_000_000 + Double(index) * 60)
            return """
                {"id":"\(prefix)-\(index)","lab":"\(lab)","board":"a1","board_type":"qemu-arm64","tree":"mainline","branch":"master",\
                "describe":"v6.9-\(index % 50)","started_at":"\(startedAt)","status":"pass","log":"\(log)"}
                """
        }
        let file = folder.appendingPathComponent("boots.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let imported = try Harness.run(["results", "import", file.path, "--db", labStore, "--quiet"])
        try #require(imported.exitCode == 0, "\(imported.standardError)")
    }

    /// `bootfarm lab outbox` of this lab with `arguments`.
    func outbox(_ arguments: [String] = [], timeoutSeconds: Double = 120) throws -> CommandResult {
        try Harness.run(["lab", "outbox", "--lab", labFile, "--db", labStore] + arguments, timeoutSeconds: timeoutSeconds)
    }

    /// `bootfarm serve` on the lab's server port, once it listens. The port can stay taken for a
    /// moment after a killed server, so starting is retried for a while.
    func startServer() throws -> BackgroundAgent {
        for _ in 0..<40 {
            let server = try BackgroundAgent(["serve", "--db", serverStore, "--port", String(port)], temporaryFolder: folder)
            if server.waitFor("bootfarm: serving", seconds: 30) && server.process.isRunning { return server }
            _ = server.waitForExit(seconds: 5)
            usleep(250_000)
        }
        throw CocoaError(.fileReadUnknown, userInfo: ["reason": "bootfarm serve would not start on port \(port)"])
    }
}

@Suite("sharing a lab's boots through the outbox", .serialized)
struct OutboxCommandTests {
    /// Waits until `condition` holds, polling every 5 ms; false after `seconds`.
    func wait(seconds: Double, until condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(5_000)
        }
        return try condition()
    }

    func kill9(_ server: BackgroundAgent) {
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
    }

    @Test func aPushWaitsOutAServerThatIsDownAndKilledTwiceAndStoresEveryBootOnce() throws {
        let lab = try SharingLab(server: "  batch: 10\n  max_backoff_s: 1\n")
        try lab.importBoots(1000)
        let backfill = try Harness.jsonObject(try lab.outbox(["--backfill", "--json"]).standardOutput)
        #expect(backfill["queued"] as? Int == 1000)

        // The server is down when the push starts: it waits, retrying.
        let push = try BackgroundAgent(
            ["lab", "outbox", "--lab", lab.labFile, "--db", lab.labStore, "--push", "--wait"], temporaryFolder: lab.folder)
        defer { if push.process.isRunning { kill9(push) } }
        #expect(push.waitFor("cannot reach \(lab.url)", seconds: 60), "\(push.standardError)")
        usleep(1_500_000)
        #expect(push.process.isRunning, "the push gave up: \(push.standardError)")

        let serverStore = try ResultStore(path: lab.serverStore)
        var server = try lab.startServer()
        #expect(try wait(seconds: 120) { try serverStore.count() >= 150 }, "\(push.standardError)")
        kill9(server)
        let firstKill = try serverStore.count()
        #expect(firstKill < 1000, "the upload finished before the server could be killed")

        usleep(500_000)
        server = try lab.startServer()
        #expect(try wait(seconds: 120) { try serverStore.count() >= firstKill + 250 }, "\(push.standardError)")
        kill9(server)
        let secondKill = try serverStore.count()
        #expect(secondKill < 1000, "the upload finished before the server could be killed again")

        usleep(500_000)
        server = try lab.startServer()
        defer { kill9(server) }
        #expect(push.waitForExit(seconds: 180) == 0, "\(push.standardError)")
        #expect(try serverStore.count() == 1000)
        #expect(try serverStore.boot(id: "boot-999")?.revision.describe == "v6.9-49")
        #expect(
            try serverStore.log(bootID: "boot-0").map { String(decoding: $0.bytes, as: UTF8.self) }?.hasPrefix("[    0.000000] Linux")
                == true)
        #expect(push.standardError.contains("uploaded 1000 of 1000"), "\(push.standardError)")

        let after = try Harness.jsonObject(try lab.outbox(["--json"]).standardOutput)
        let servers = try #require(after["servers"] as? [[String: Any]])
        #expect(servers.count == 1)
        #expect(servers.first?["pending"] as? Int == 0 && servers.first?["rejected"] as? Int == 0, "\(after)")
    }

    @Test func theOutboxAsJSONHasItsCountsPerServerAndAFailedPushSaysWhatToDo() throws {
        let lab = try SharingLab()
        try lab.importBoots(3)
        let empty = try Harness.jsonObject(try lab.outbox(["--json"]).standardOutput)
        #expect(
            empty["lab"] as? String == "upload-lab" && empty["store"] as? String == lab.labStore && empty["server"] as? String == lab.url)
        let emptyServers = try #require(empty["servers"] as? [[String: Any]])
        #expect(emptyServers.count == 1 && emptyServers.first?["pending"] as? Int == 0)
        #expect((empty["rejected"] as? [Any])?.isEmpty == true)

        let queued = try Harness.jsonObject(try lab.outbox(["--backfill", "--json", "--quiet"]).standardOutput)
        #expect(queued["queued"] as? Int == 3)
        let server = try #require((queued["servers"] as? [[String: Any]])?.first)
        #expect(server["server"] as? String == lab.url)
        #expect(server["pending"] as? Int == 3 && server["due"] as? Int == 3 && server["rejected"] as? Int == 0)
        #expect(ISOTimestamp.epochSeconds(server["oldest_queued_at"] as? String ?? "") != nil, "\(server)")
        #expect(server["last_error"] == nil)

        // Nothing listens on the port: without --wait the push fails at once and says what to do.
        let push = try lab.outbox(["--push"])
        #expect(push.exitCode == 3, "\(push.standardError)")
        #expect(push.standardError.hasPrefix("bootfarm: error: cannot reach \(lab.url)"), "\(push.standardError)")
        #expect(push.standardError.contains("3 boots wait in the outbox") && push.standardError.contains("--wait"))
        let failed = try #require((try Harness.jsonObject(try lab.outbox(["--json"]).standardOutput)["servers"] as? [[String: Any]])?.first)
        #expect(failed["pending"] as? Int == 3 && failed["due"] as? Int == 0, "\(failed)")
        #expect((failed["last_error"] as? String ?? "").contains("cannot reach"), "\(failed)")
        #expect(failed["next_attempt_at"] is String)

        let text = try lab.outbox()
        #expect(text.exitCode == 0)
        #expect(text.standardOutput.contains("\(lab.url): 3 pending (0 due now), 0 rejected"), "\(text.standardOutput)")
        #expect(text.standardOutput.contains("push them with: bootfarm lab outbox --lab \(lab.labFile) --db \(lab.labStore) --push"))
    }

    @Test func aBootTheServerRefusesIsRejectedThePushExits1AndItCanBeQueuedAgain() throws {
        let lab = try SharingLab()
        try lab.importBoots(4)
        try lab.importBoots(1, lab: "another-lab", prefix: "foreign")
        // Backfill queues this lab's boots only; a boot of another lab queued by hand is refused (403).
        #expect(try Harness.jsonObject(try lab.outbox(["--backfill", "--json"]).standardOutput)["queued"] as? Int == 4)
        #expect(try ResultStore(path: lab.labStore).queueUploads(bootIDs: ["foreign-0"], server: lab.url) == 1)
        let server = try lab.startServer()
        defer { kill9(server) }

        let push = try lab.outbox(["--push", "--json"])
        #expect(push.exitCode == 1, "\(push.standardError)")
        #expect(push.standardError.contains("refused foreign-0: HTTP 403: "), "\(push.standardError)")
        #expect(push.standardError.contains("fix them, then push with --retry-rejected --push"))
        let object = try Harness.jsonObject(push.standardOutput)
        #expect(object["uploaded"] as? Int == 4 && object["refused"] as? Int == 1, "\(object)")
        let rejected = try #require((object["rejected"] as? [[String: Any]])?.first)
        #expect(rejected["boot"] as? String == "foreign-0" && rejected["state"] as? String == "rejected")
        #expect((rejected["error"] as? String ?? "").contains("belongs to lab 'another-lab'"), "\(rejected)")
        #expect(try ResultStore(path: lab.serverStore).count() == 4)

        let retry = try lab.outbox(["--retry-rejected", "--json"])
        #expect(retry.exitCode == 0)
        let requeued = try Harness.jsonObject(retry.standardOutput)
        #expect(requeued["requeued"] as? Int == 1)
        #expect((requeued["servers"] as? [[String: Any]])?.first?["pending"] as? Int == 1)
    }

    @Test func tokenWithoutServerIsAUsageError() throws {
        let lab = try SharingLab()
        let kernel = lab.folder.appendingPathComponent("Image")
        try Data(repeating: 0x4B, count: 1000).write(to: kernel)
        for arguments in [
            ["boot", "--lab", lab.labFile, "--board", "a1", "--kernel", kernel.path, "--token", "bft_x"],
            ["agent", "--lab", lab.labFile, "--token", "bft_x"],
            ["lab", "outbox", "--lab", lab.labFile, "--token", "bft_x"],
        ] {
            let result = try Harness.run(arguments, timeoutSeconds: 30)
            #expect(result.exitCode == 2, "\(arguments): \(result.standardError)")
            #expect(result.standardError.contains("--token needs --server URL"), "\(result.standardError)")
        }
    }

    @Test func aServerWithoutAnyTokenIsAUsageErrorBeforeAnythingIsPowered() throws {
        let folder = try Harness.temporaryFolder()
        let kernel = folder.appendingPathComponent("Image")
        try Data(repeating: 0x4B, count: 1000).write(to: kernel)
        let database = folder.appendingPathComponent("lab.sqlite").path
        let boot = try Harness.run(
            [
                "boot", "--lab", "labs/sim.yaml", "--board", "arm64-uboot-1", "--kernel", kernel.path, "--db", database, "--server",
                "http://127.0.0.1:1",
            ],
            timeoutSeconds: 30)
        #expect(boot.exitCode == 2, "\(boot.standardError)")
        #expect(boot.standardError.contains("--server http://127.0.0.1:1 needs the lab's token"), "\(boot.standardError)")
        #expect(boot.standardError.contains("give --token TOKEN"))
        #expect(try ResultStore(path: database).count() == 0, "nothing was booted")

        let push = try Harness.run(["lab", "outbox", "--lab", "labs/sim.yaml", "--db", database, "--push"], timeoutSeconds: 30)
        #expect(push.exitCode == 2 && push.standardError.contains("--push needs a results server"), "\(push.standardError)")
        let badURL = try Harness.run(["lab", "outbox", "--lab", "labs/sim.yaml", "--server", "results.example.org", "--token", "t"])
        #expect(badURL.exitCode == 2 && badURL.standardError.contains("http:// or https://"), "\(badURL.standardError)")
    }

    @Test func aBootWhileTheServerIsAwayKeepsItsStatusAndWaitsInTheOutboxUntilPushed() throws {
        let lab = try SharingLab(name: "sim-fake")
        let simulation = try ScriptedSimulation(boards: 2, in: lab.folder)
        let kernel = lab.folder.appendingPathComponent("Image")
        try Data(repeating: 0x4B, count: 100_000).write(to: kernel)
        let boot = try Harness.run(
            [
                "boot", "--lab", simulation.labFile, "--board", "fake-001", "--kernel", kernel.path, "--db", lab.labStore,
                "--tree", "mainline", "--branch", "master", "--describe", "v6.9", "--server", lab.url, "--token", lab.token, "--quiet",
            ], timeoutSeconds: 60)
        #expect(boot.exitCode == 0, "\(boot.standardError)")
        #expect(boot.standardOutput.hasPrefix("pass fake-001"))
        #expect(boot.standardError.contains("cannot reach \(lab.url)"), "\(boot.standardError)")
        #expect(
            boot.standardError.contains(
                "the record waits in the outbox; push it with: bootfarm lab outbox --lab \(simulation.labFile) --db \(lab.labStore) --push"),
            "\(boot.standardError)")

        let server = try lab.startServer()
        defer { kill9(server) }
        let push = try Harness.run(
            ["lab", "outbox", "--lab", simulation.labFile, "--db", lab.labStore, "--server", lab.url, "--token", lab.token, "--push"])
        #expect(push.exitCode == 0, "\(push.standardError)")
        #expect(push.standardError.contains("uploaded 1 of 1"), "\(push.standardError)")
        #expect(push.standardOutput.contains("\(lab.url): nothing pending"), "\(push.standardOutput)")

        // Once the server is back, a boot is uploaded as it is recorded.
        let second = try Harness.run(
            [
                "boot", "--lab", simulation.labFile, "--board", "fake-002", "--kernel", kernel.path, "--db", lab.labStore,
                "--tree", "mainline", "--branch", "master", "--describe", "v6.9", "--server", lab.url, "--token", lab.token,
            ], timeoutSeconds: 60)
        #expect(second.exitCode == 0, "\(second.standardError)")
        #expect(second.standardError.contains("uploaded to \(lab.url)"), "\(second.standardError)")
        let serverStore = try ResultStore(path: lab.serverStore)
        #expect(try serverStore.count() == 2)
        #expect(try serverStore.recentBoots().allSatisfy { $0.lab == "sim-fake" && $0.revision.describe == "v6.9" })
        withExtendedLifetime(simulation) {}
    }

    @Test func theAgentUploadsItsBootsInTheBackgroundAndKeepsBootingWhileTheServerIsAway() throws {
        let lab = try SharingLab(name: "sim-fake")
        let simulation = try ScriptedSimulation(boards: 2, in: lab.folder)
        let kernel = lab.folder.appendingPathComponent("Image")
        try Data(repeating: 0x4B, count: 100_000).write(to: kernel)
        let job = lab.folder.appendingPathComponent("job.yaml")
        try "board_type: fake-arm64-uboot\nkernel: \(kernel.path)\nrevision: {tree: mainline, branch: master, describe: v6.9}\n"
            .write(to: job, atomically: true, encoding: .utf8)
        func runAgent(jobs: Int) throws -> [[String: Any]] {
            for _ in 0..<jobs {
                #expect(try Harness.run(["job", "submit", job.path, "--lab", simulation.labFile, "--db", lab.labStore]).exitCode == 0)
            }
            let agent = try Harness.run(
                [
                    "agent", "--lab", simulation.labFile, "--db", lab.labStore, "--exit-when-idle", "--json", "--server", lab.url,
                    "--token", lab.token,
                ], timeoutSeconds: 300)
            #expect(agent.exitCode == 0, "\(agent.standardError)")
            return try agent.standardOutput.split(separator: "\n").map { try Harness.jsonObject(String($0)) }
        }

        // The server is away: both jobs still run, and their boots wait.
        let away = try runAgent(jobs: 2)
        #expect(away.filter { $0["event"] as? String == "job_finished" }.count == 2)
        let failed = try #require(away.first { $0["event"] as? String == "upload_failed" }, "\(away)")
        #expect((failed["error"] as? String ?? "").contains("cannot reach \(lab.url)"))
        let outbox = try Harness.run(["lab", "outbox", "--lab", simulation.labFile, "--db", lab.labStore, "--server", lab.url, "--json"])
        let waiting = try #require((try Harness.jsonObject(outbox.standardOutput)["servers"] as? [[String: Any]])?.first)
        #expect(waiting["pending"] as? Int == 2, "\(waiting)")

        // Back: once the new boot lands, the waiting ones are due again and go with it.
        let server = try lab.startServer()
        defer { kill9(server) }
        let back = try runAgent(jobs: 1)
        let uploads = back.filter { $0["event"] as? String == "uploaded" }
        #expect(uploads.compactMap { $0["count"] as? Int }.reduce(0, +) == 3, "\(back)")
        #expect(uploads.last?["pending"] as? Int == 0)
        #expect(try ResultStore(path: lab.serverStore).count() == 3)
        withExtendedLifetime(simulation) {}
    }
}
