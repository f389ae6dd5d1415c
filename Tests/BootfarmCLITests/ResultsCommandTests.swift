import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif
#if canImport(Glibc)
    import Glibc
#endif

/// Boots of mainline/master over three revisions (v6.8, v6.9-rc1, v6.9-rc2) on five boards in two
/// labs, and one boot of next/master. At v6.9-rc2: rpi4-1 in lab-a fails for the first time
/// while the same build passes on rpi4-7 in lab-b (a new failure and a conflict), bbb-2 passes
/// after failing since v6.8 (fixed), juno-1 passes and fails (flaky) and qemu-1 has an
/// infrastructure error.
enum ResultsFixture {
    static let revisions: [(describe: String, commit: String, commitTime: String)] = [
        ("v6.8", String(repeating: "a1", count: 20), "2026-03-01T08:00:00Z"),
        ("v6.9-rc1", String(repeating: "b2", count: 20), "2026-03-08T08:00:00Z"),
        ("v6.9-rc2", String(repeating: "c3", count: 20), "2026-03-15T08:00:00Z"),
    ]

    /// The reason of the new failure: a comma and quotes, for CSV quoting.
    static let panicReason = #"kernel panic: Attempted to kill init!, exitcode="0x0000000b""#

    /// The console log of the new failure as it appears in the file: JSON escapes of every kind.
    static let escapedLog =
        #"U-Boot 2024.01\r\n\u001b[1;31mKernel panic - not syncing: Attempted to kill init!\u001B[0m\n\tCPU: 0 PID: 1 Comm: \"init\"\n"#
        + #"  C:\\boot\\Image \/ slash\n  caf\u00e9 \ud83d\ude80 bell\u0007 del\u007f\n"#

    /// `escapedLog` decoded.
    static let log =
        "U-Boot 2024.01\r\n\u{1B}[1;31mKernel panic - not syncing: Attempted to kill init!\u{1B}[0m\n\tCPU: 0 PID: 1 Comm: \"init\"\n"
        + "  C:\\boot\\Image / slash\n  café 🚀 bell\u{07} del\u{7F}\n"

    /// The id of the boot that carries `log`.
    static let loggedBootID = "mainline-12"

    /// The import file's lines: 18 records, the last one without an id.
    static var lines: [String] {
        var lines: [String] = []
        var number = 0
        func add(
            _ revision: Int, _ lab: String, _ board: String, _ status: String, reason: String = "", stage: String? = nil,
            extra: [String: Any] = [:], log: String? = nil
        ) {
            number += 1
            let (boardType, arch, defconfig, compiler): (String, String, String, String) =
                switch board {
                case "rpi4-1", "rpi4-7": ("bcm2711-rpi-4-b", "arm64", "defconfig", "gcc-12")
                case "bbb-2": ("am335x-boneblack", "arm", "multi_v7_defconfig", "gcc-12")
                case "juno-1": ("juno-r2", "arm64", "defconfig", "gcc-12")
                default: ("qemu-x86_64", "x86_64", "x86_64_defconfig", "clang-17")
                }
            var fields: [String: Any] = [
                "id": "mainline-\(number)", "lab": lab, "board": board, "board_type": boardType, "arch": arch, "defconfig": defconfig,
                "compiler": compiler, "tree": "mainline", "branch": "master", "describe": revisions[revision].describe,
                "commit": revisions[revision].commit, "commit_time": revisions[revision].commitTime,
                "started_at": String(format: "2026-03-%02dT10:%02d:00Z", 2 + 7 * revision, number),
                "finished_at": String(format: "2026-03-%02dT10:%02d:30Z", 2 + 7 * revision, number),
                "status": status, "reason": reason,
            ]
            if let stage { fields["stage"] = stage }
            if status == "pass" { fields["boot_time_s"] = 4 + Double(number) / 100 }
            fields.merge(extra) { _, new in new }
            var line = jsonLine(fields)
            if let log { line = String(line.dropLast()) + #","log":""# + log + #""}"# }
            lines.append(line)
        }
        add(
            0, "lab-a", "rpi4-1", "pass",
            extra: [
                "stage_times": ["bootloader": 1.5, "kernel": 2.25, "prompt": 4.01], "kernel_image_size": 23_068_672,
                "energy_j": 21.5, "avg_power_w": 3.1, "peak_power_w": 5.25, "warnings": 1,
            ])
        add(0, "lab-a", "rpi4-1", "canceled", reason: "canceled by the operator", stage: "bootloader")
        add(0, "lab-b", "rpi4-7", "pass")
        add(0, "lab-a", "bbb-2", "fail", reason: "timeout in kernel after 60 s", stage: "kernel")
        add(0, "lab-b", "qemu-1", "pass")
        add(0, "lab-b", "juno-1", "pass")
        add(1, "lab-a", "rpi4-1", "pass")
        add(1, "lab-b", "rpi4-7", "pass")
        add(1, "lab-a", "bbb-2", "fail", reason: "timeout in kernel after 60 s", stage: "kernel")
        add(1, "lab-b", "qemu-1", "pass")
        add(1, "lab-b", "juno-1", "pass")
        add(2, "lab-a", "rpi4-1", "fail", reason: panicReason, stage: "kernel", log: escapedLog)
        add(2, "lab-b", "rpi4-7", "pass")
        add(2, "lab-a", "bbb-2", "pass")
        add(2, "lab-b", "qemu-1", "error", reason: "relay did not answer", stage: "power")
        add(2, "lab-b", "juno-1", "pass")
        add(2, "lab-b", "juno-1", "fail", reason: "no prompt in time", stage: "userspace")
        lines.append(
            jsonLine([
                "lab": "lab-a", "board": "rpi4-1", "board_type": "bcm2711-rpi-4-b", "arch": "arm64", "tree": "next", "branch": "master",
                "describe": "next-20260310", "started_at": "2026-03-10T09:00:00Z", "status": "pass",
            ]))
        return lines
    }

    static var recordCount: Int { lines.count }

    static func jsonLine(_ fields: [String: Any]) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }
}

/// A temporary folder with a results store in it, removed at the end of a test.
struct Workspace: ~Copyable {
    let folder: URL

    init() throws { folder = try Harness.temporaryFolder() }

    deinit { try? FileManager.default.removeItem(at: folder) }

    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    /// Writes `lines` (one record a line) to `name` and returns its path.
    func write(_ name: String, lines: [String]) throws -> String {
        let path = path(name)
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A store holding every record of `ResultsFixture`.
    func fixtureStore(_ name: String = "results.db") throws -> String {
        let database = path(name)
        let file = try write("fixture.jsonl", lines: ResultsFixture.lines)
        let result = try Harness.run(["results", "import", file, "--db", database])
        try #require(result.exitCode == 0, "import failed: \(result.standardError)")
        return database
    }
}

/// Runs a program other than bootfarm (python3 for KCIDB validation).
enum Tool {
    static func run(_ arguments: [String], timeoutSeconds: Double = 120) throws -> CommandResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = error.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        group.wait()
        return CommandResult(
            exitCode: process.terminationStatus, standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }

    /// Fails the test unless python3 can import `modules`.
    static func requirePython(_ modules: String) throws {
        let check = try run(["python3", "-c", "import \(modules)"])
        try #require(check.exitCode == 0, "python3 cannot import \(modules): run scripts/install-deps (\(check.standardError))")
    }
}

/// A local SMTP server (Tests/Fixtures/results/smtp-sink.py, on aiosmtpd) that saves what it
/// receives; `stop()` ends it, and so does dropping it.
final class SMTPSink {
    let folder: URL
    let port: Int
    private let process: Process

    init() throws {
        try Tool.requirePython("aiosmtpd")
        folder = try Harness.temporaryFolder()
        let script = Harness.repositoryRoot.appendingPathComponent("Tests/Fixtures/results/smtp-sink.py").path
        let logPath = folder.appendingPathComponent("server.log").path
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script, folder.path]
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        // The server writes its port once it accepts connections; python starts in well under 20 s.
        let portFile = folder.appendingPathComponent("port").path
        let deadline = Date().addingTimeInterval(20)
        var port: Int?
        while port == nil && process.isRunning && Date() < deadline {
            port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
            if port == nil { usleep(50_000) }
        }
        guard let port else {
            let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            Self.end(process)
            try? FileManager.default.removeItem(at: folder)
            throw SinkError(message: "the SMTP server did not start: \(output)")
        }
        self.process = process
        self.port = port
    }

    deinit { stop() }

    struct SinkError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// Ends the server (SIGTERM, then SIGKILL after 5 s) and removes its folder.
    func stop() {
        Self.end(process)
        try? FileManager.default.removeItem(at: folder)
    }

    private static func end(_ process: Process) {
        guard process.isRunning else { return }
        process.terminate()
        // aiosmtpd takes about a second to stop its event loop.
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Message `number` (1-based) as received, and its envelope recipients; waits up to 10 s.
    func message(_ number: Int) throws -> (content: String, recipients: [String]) {
        let message = folder.appendingPathComponent("message-\(number).eml")
        let deadline = Date().addingTimeInterval(10)
        while !FileManager.default.fileExists(atPath: message.path) && Date() < deadline { usleep(20_000) }
        let content = try String(contentsOf: message, encoding: .utf8)
        let recipients = try String(contentsOf: folder.appendingPathComponent("message-\(number).rcpt"), encoding: .utf8)
        return (content, recipients.split(separator: "\n").map(String.init))
    }
}

/// Collects the element names and the text of `<title>` elements of an XML document.
final class XMLOutline: NSObject, XMLParserDelegate {
    var elements: [String] = []
    var titles: [String] = []
    private var text: String?

    func parser(
        _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements.append(elementName)
        if elementName == "title" { text = "" }
    }

    func parser(_ parser: XMLParser, foundCharacters string: String) { text? += string }

    func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
        if elementName == "title", let text { titles.append(text) }
        text = nil
    }
}

@Suite("bootfarm results import, export and report")
struct ResultsCommandTests {
    static let report = ["report", "--tree", "mainline", "--branch", "master"]

    static func jsonArray(_ text: String) throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [[String: Any]], "not a JSON array of objects: \(text)")
    }

    static func storedBoots(_ database: String) throws -> [[String: Any]] {
        let result = try Harness.run(["results", "list", "--db", database, "--json", "--limit", "1000"])
        try #require(result.exitCode == 0, "\(result.standardError)")
        return try jsonArray(result.standardOutput)
    }

    // MARK: import

    @Test func importStoresEveryRecordAndGivesAnIDToARecordWithout() throws {
        let workspace = try Workspace()
        let file = try workspace.write("boots.jsonl", lines: ResultsFixture.lines)
        let database = workspace.path("results.db")
        let result = try Harness.run(["results", "import", file, "--db", database, "--json"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let summary = try Harness.jsonObject(result.standardOutput)
        #expect(summary["imported"] as? Int == ResultsFixture.recordCount)
        #expect(summary["lines"] as? Int == ResultsFixture.recordCount)
        #expect((summary["rejected"] as? [Any])?.isEmpty == true)

        let boots = try Self.storedBoots(database)
        #expect(boots.count == ResultsFixture.recordCount)
        let ids = Set(boots.compactMap { $0["id"] as? String })
        #expect(ids.count == ResultsFixture.recordCount)
        #expect(ids.isSuperset(of: (1...17).map { "mainline-\($0)" }))
        let next = try #require(boots.first { $0["tree"] as? String == "next" })
        let generated = try #require(next["id"] as? String)
        #expect(generated.hasPrefix("boot-") && generated.count == 21, "generated id \(generated) is not a derived id")

        let first = try #require(boots.first { $0["id"] as? String == "mainline-1" })
        #expect(first["board_type"] as? String == "bcm2711-rpi-4-b")
        #expect(first["status"] as? String == "pass")
        #expect(first["stage"] as? String == "prompt")
        #expect(first["kernel_image_size"] as? Int == 23_068_672)
        #expect(first["energy_j"] as? Double == 21.5)
        #expect(first["warnings"] as? Int == 1)
        #expect((first["stage_times"] as? [String: Double])?["kernel"] == 2.25)
        let failure = try #require(boots.first { $0["id"] as? String == ResultsFixture.loggedBootID })
        #expect(failure["reason"] as? String == ResultsFixture.panicReason)
        #expect(failure["stage"] as? String == "kernel")

        let shown = try Harness.run(["results", "show", ResultsFixture.loggedBootID, "--db", database, "--log"])
        #expect(shown.exitCode == 0, "\(shown.standardError)")
        #expect(shown.standardOutput == ResultsFixture.log)
    }

    @Test func importPrintsHowManyRecordsItImported() throws {
        let workspace = try Workspace()
        let file = try workspace.write("boots.jsonl", lines: ResultsFixture.lines)
        let result = try Harness.run(["results", "import", file, "--db", workspace.path("results.db")])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.hasPrefix("imported \(ResultsFixture.recordCount) of \(ResultsFixture.recordCount) records in "))
    }

    @Test func reimportingRecordsWithIDsUpdatesThemInsteadOfAddingCopies() throws {
        let workspace = try Workspace()
        let withIDs = ResultsFixture.lines.filter { $0.contains(#""id":"#) }
        let file = try workspace.write("boots.jsonl", lines: withIDs)
        let database = workspace.path("results.db")
        for _ in 0..<2 {
            let result = try Harness.run(["results", "import", file, "--db", database, "-q"])
            #expect(result.exitCode == 0, "\(result.standardError)")
        }
        #expect(try Self.storedBoots(database).count == withIDs.count)

        // A changed record with a stored id replaces the stored one.
        let changed = withIDs.map { $0.replacingOccurrences(of: "timeout in kernel after 60 s", with: "timeout in kernel after 90 s") }
        let update = try workspace.write("update.jsonl", lines: changed)
        #expect(try Harness.run(["results", "import", update, "--db", database, "-q"]).exitCode == 0)
        let boots = try Self.storedBoots(database)
        #expect(boots.count == withIDs.count)
        #expect(boots.filter { $0["reason"] as? String == "timeout in kernel after 90 s" }.count == 2)
        #expect(!boots.contains { $0["reason"] as? String == "timeout in kernel after 60 s" })
    }

    @Test func reimportingTheSameFileStoresNoCopies() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let again = try Harness.run(["results", "import", workspace.path("fixture.jsonl"), "--db", database])
        #expect(again.exitCode == 0, "\(again.standardError)")
        let stored = try Self.storedBoots(database).count
        #expect(stored == ResultsFixture.recordCount, "a record without an id gets the same derived id on every import")
    }

    static let badLines: [String] = {
        let good = ResultsFixture.lines
        func retagged(_ line: String, _ id: String) -> String {
            line.replacingOccurrences(of: #""id":"mainline-"#, with: #""id":"\#(id)-"#)
        }
        return [
            retagged(good[0], "bad"),
            retagged(good[2], "bad"),
            retagged(good[4], "bad").replacingOccurrences(of: #""status":"pass""#, with: #""status":"ok""#),
            retagged(good[6], "bad"),
            retagged(good[9], "bad").replacingOccurrences(of: #""boot_time_s":4.1"#, with: #""boot_time_s":"fast""#),
            #"{"id":"bad-0","lab":"lab-a","board":"#,
            retagged(good[12], "bad"),
        ]
    }()

    @Test func aFileWithBadLinesImportsNothingAndNamesEveryBadLine() throws {
        #expect(Self.badLines[4].contains(#""boot_time_s":"fast""#))
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let file = try workspace.write("bad.jsonl", lines: Self.badLines)
        let result = try Harness.run(["results", "import", file, "--db", database])
        #expect(result.exitCode == 2)
        #expect(result.standardOutput.isEmpty)
        let errorLines = result.standardError.split(separator: "\n").map(String.init)
        let first = try #require(errorLines.first)
        #expect(first.hasPrefix("bootfarm: error: \(file): line 3: field 'status'"), "\(first)")
        #expect(first.contains("found 'ok'"))
        #expect(first.contains("3 bad lines; nothing was imported"))
        #expect(
            errorLines.contains { $0.hasPrefix("\(file): line 5: field 'boot_time_s'") && $0.contains("expected a number, found a string") }
        )
        #expect(errorLines.contains { $0.hasPrefix("\(file): line 6: not valid JSON") })
        #expect(errorLines.last?.contains("--skip-bad") == true)

        #expect(try Self.storedBoots(database).count == ResultsFixture.recordCount)
        let fresh = workspace.path("fresh.db")
        #expect(try Harness.run(["results", "import", file, "--db", fresh]).exitCode == 2)
        let shown = try Harness.run(["results", "show", "bad-1", "--db", fresh])
        #expect(shown.exitCode == 2)
        #expect(shown.standardError.contains("no boot 'bad-1'"))
    }

    @Test func skipBadStoresTheGoodLinesAndReportsTheBadOnes() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let file = try workspace.write("bad.jsonl", lines: Self.badLines)
        let result = try Harness.run(["results", "import", file, "--db", database, "--skip-bad", "--json"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let summary = try Harness.jsonObject(result.standardOutput)
        #expect(summary["imported"] as? Int == 4)
        #expect(summary["lines"] as? Int == 7)
        let rejected = try #require(summary["rejected"] as? [[String: Any]])
        #expect(rejected.compactMap { $0["line"] as? Int } == [3, 5, 6])
        #expect(rejected.compactMap { $0["field"] as? String } == ["status", "boot_time_s", ""])
        #expect(try Self.storedBoots(database).count == ResultsFixture.recordCount + 4)
        for id in ["bad-1", "bad-3", "bad-7", "bad-13"] {
            #expect(try Harness.run(["results", "show", id, "--db", database]).exitCode == 0, "\(id) was not stored")
        }
        for id in ["bad-5", "bad-10"] {
            #expect(try Harness.run(["results", "show", id, "--db", database]).exitCode == 2, "\(id) was stored")
        }

        let fresh = workspace.path("fresh.db")
        let plain = try Harness.run(["results", "import", file, "--db", fresh, "--skip-bad"])
        #expect(plain.exitCode == 0, "\(plain.standardError)")
        #expect(plain.standardOutput.contains("imported 4 of 7 records"))
        #expect(plain.standardOutput.contains("(3 bad lines skipped)"))
        #expect(plain.standardError.contains("\(file): skipped line 3: field 'status'"))
        #expect(plain.standardError.contains("\(file): skipped line 5: field 'boot_time_s'"))
        #expect(plain.standardError.contains("\(file): skipped line 6: not valid JSON"))
    }

    @Test func importOfAMissingFileIsAUsageError() throws {
        let workspace = try Workspace()
        let result = try Harness.run(["results", "import", workspace.path("nonesuch.jsonl"), "--db", workspace.path("results.db")])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("nonesuch.jsonl: no such file"))
    }

    // MARK: export

    @Test(arguments: [false, true])
    func jsonlExportRoundTripsThroughAFreshStore(withLogs: Bool) throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let options = withLogs ? ["--with-logs"] : []
        let first = try Harness.run(["results", "export", "--db", database, "--format", "jsonl"] + options)
        #expect(first.exitCode == 0, "\(first.standardError)")
        #expect(first.standardOutput.split(separator: "\n").count == ResultsFixture.recordCount)
        let file = workspace.path("export.jsonl")
        try first.standardOutput.write(toFile: file, atomically: true, encoding: .utf8)

        let fresh = workspace.path("fresh.db")
        let imported = try Harness.run(["results", "import", file, "--db", fresh, "-q"])
        #expect(imported.exitCode == 0, "\(imported.standardError)")
        let second = try Harness.run(["results", "export", "--db", fresh, "--format", "jsonl"] + options)
        #expect(second.exitCode == 0, "\(second.standardError)")
        #expect(second.standardOutput == first.standardOutput)
    }

    @Test func withLogsExportCarriesTheConsoleLogAndPlainExportDoesNot() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let withLogs = try Harness.run(["results", "export", "--db", database, "--with-logs"])
        #expect(withLogs.exitCode == 0, "\(withLogs.standardError)")
        let records = try withLogs.standardOutput.split(separator: "\n").map { try Harness.jsonObject(String($0)) }
        let logged = try #require(records.first { $0["id"] as? String == ResultsFixture.loggedBootID })
        #expect(logged["log"] as? String == ResultsFixture.log)
        #expect(records.filter { $0["log"] != nil }.count == 1)

        let plain = try Harness.run(["results", "export", "--db", database])
        #expect(plain.exitCode == 0)
        #expect(!plain.standardOutput.contains(#""log""#))
    }

    @Test func exportKeepsOnlyTheBootsTheFiltersName() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run([
            "results", "export", "--db", database, "--tree", "mainline", "--branch", "master", "--revision", "v6.9-rc2", "--lab", "lab-b",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let records = try result.standardOutput.split(separator: "\n").map { try Harness.jsonObject(String($0)) }
        #expect(records.compactMap { $0["id"] as? String } == ["mainline-13", "mainline-15", "mainline-16", "mainline-17"])
        #expect(records.allSatisfy { $0["lab"] as? String == "lab-b" && $0["describe"] as? String == "v6.9-rc2" })

        let next = try Harness.run(["results", "export", "--db", database, "--tree", "next"])
        #expect(next.standardOutput.split(separator: "\n").count == 1)
    }

    @Test func csvExportHasAHeaderAndQuotesACommaAndAQuote() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(["results", "export", "--db", database, "--format", "csv"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let rows = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(
            rows.first
                == "id,lab,board,board_type,arch,defconfig,compiler,tree,branch,commit,describe,commit_time,started_at,finished_at,"
                + "status,stage,reason,boot_time_s,warnings,kernel_image_size,energy_j,avg_power_w,peak_power_w")
        #expect(rows.count == ResultsFixture.recordCount + 2)
        #expect(rows.last == "")
        let failure = try #require(rows.first { $0.hasPrefix("\(ResultsFixture.loggedBootID),") })
        #expect(failure.contains(#",fail,kernel,"kernel panic: Attempted to kill init!, exitcode=""0x0000000b""",,0,,,,"#))
        #expect(
            rows.contains(
                "mainline-1,lab-a,rpi4-1,bcm2711-rpi-4-b,arm64,defconfig,gcc-12,mainline,master,\(ResultsFixture.revisions[0].commit),v6.8,"
                    + "2026-03-01T08:00:00Z,2026-03-02T10:01:00Z,2026-03-02T10:01:30Z,pass,prompt,,4.01,1,23068672,21.5,3.1,5.25"))
    }

    @Test func kcidbExportPassesKCIDBSchemaValidation() throws {
        try Tool.requirePython("kcidb_io")
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let file = workspace.path("kcidb.json")
        let result = try Harness.run(["results", "export", "--db", database, "--format", "kcidb", "--origin", "bootfarm", "--output", file])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)

        let validation = try Tool.run([
            "python3", "-c",
            """
            import json, sys, kcidb_io
            document = json.load(open(sys.argv[1]))
            kcidb_io.schema.LATEST.validate_exactly(document)
            print(len(document["checkouts"]), len(document["builds"]), len(document["tests"]))
            """,
            file,
        ])
        #expect(validation.exitCode == 0, "\(validation.standardError)")
        let counts = validation.standardOutput.split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        // Checkouts: three of mainline, one of next. Builds: three arch/defconfig/compiler at each
        // mainline checkout, one at next. Tests: a boot test per record, and mainline-1's energy,
        // mean and peak power.
        #expect(counts == [4, 10, ResultsFixture.recordCount + 3])

        let document = try Harness.jsonObject(try String(contentsOfFile: file, encoding: .utf8))
        let tests = try #require(document["tests"] as? [[String: Any]])
        func test(_ id: String) -> [String: Any]? { tests.first { $0["id"] as? String == id } }
        #expect(test("bootfarm:\(ResultsFixture.loggedBootID):boot")?["status"] as? String == "FAIL")
        #expect(test("bootfarm:mainline-15:boot")?["status"] as? String == "MISS")
        #expect(test("bootfarm:mainline-2:boot")?["status"] as? String == "SKIP")
        #expect(test("bootfarm:mainline-1:boot")?["status"] as? String == "PASS")
        #expect(test("bootfarm:mainline-1:boot.energy")?["status"] as? String == "DONE")
        #expect(tests.allSatisfy { $0["origin"] as? String == "bootfarm" })
    }

    static let contradictoryExports: [[String]] = [
        ["--format", "csv", "--origin", "lab"],
        ["--format", "jsonl", "--origin", "lab"],
        ["--format", "kcidb"],
        ["--format", "csv", "--with-logs"],
        ["--format", "kcidb", "--origin", "lab", "--with-logs"],
        ["--format", "kcidb", "--origin", "a:b"],
        ["--format", "xml"],
    ]

    @Test(arguments: contradictoryExports)
    func contradictoryExportOptionsAreAUsageError(options: [String]) throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(["results", "export", "--db", database] + options)
        #expect(result.exitCode == 2)
        #expect(result.standardOutput.isEmpty)
        let named = options.last { $0.hasPrefix("--") } ?? "--format"
        #expect(result.standardError.contains(named), "\(result.standardError)")
    }

    @Test func exportOfAMissingStoreIsAUsageError() throws {
        let workspace = try Workspace()
        let result = try Harness.run(["results", "export", "--db", workspace.path("nonesuch.db")])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("no such results store"))
        #expect(!FileManager.default.fileExists(atPath: workspace.path("nonesuch.db")))
    }

    // MARK: report

    @Test func textReportOfTheNewestRevisionMatchesTheGoldenFile() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(Self.report + ["--db", database])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("Git Describe: v6.9-rc2"))
        #expect(result.standardOutput.contains("new failure (last pass: v6.9-rc1)"))
        let golden = try String(
            contentsOf: Harness.repositoryRoot.appendingPathComponent("Tests/BootfarmCLITests/Golden/report-mainline-text.txt"),
            encoding: .utf8)
        #expect(result.standardOutput == golden)
    }

    @Test func reportOfAnOlderRevisionComparesWithItsOwnPast() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(Self.report + ["--revision", "v6.9-rc1", "--db", database])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let text = result.standardOutput
        #expect(text.hasPrefix("mainline/master boot: 5 boots: 1 failed, 4 passed, 0 errors (v6.9-rc1)\n"))
        #expect(text.contains("Git Describe: v6.9-rc1"))
        #expect(text.contains("Compared to:  v6.8"))
        #expect(text.contains("lab-a: failing since v6.8: timeout in kernel after 60 s"))
        #expect(!text.contains("v6.9-rc2"))
        #expect(!text.contains("new failure"))
    }

    @Test func reportOfAnUnknownTreeListsTheKnownTreesAndBranches() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(["report", "--tree", "stable", "--branch", "linux-6.6.y", "--db", database])
        #expect(result.exitCode == 2)
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.hasPrefix("bootfarm: error: no boots of stable/linux-6.6.y in the results store"))
        #expect(result.standardError.contains("mainline/master, next/master"))

        let revision = try Harness.run(Self.report + ["--revision", "v5.0", "--db", database])
        #expect(revision.exitCode == 2)
        #expect(revision.standardError.contains("no revision 'v5.0' of mainline/master; newest: v6.9-rc2, v6.9-rc1, v6.8"))
    }

    @Test func jsonReportHasTheFindingArrays() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(Self.report + ["--format", "json", "--db", database])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let report = try Harness.jsonObject(result.standardOutput)
        var arrays: [String: [[String: Any]]] = [:]
        for name in ["regressions", "fixed", "flaky", "conflicts", "errors"] {
            arrays[name] = try #require(report[name] as? [[String: Any]], "no array '\(name)'")
        }
        #expect((report["revision"] as? [String: Any])?["describe"] as? String == "v6.9-rc2")
        #expect((report["previous"] as? [String: Any])?["describe"] as? String == "v6.9-rc1")
        #expect(report["counts"] as? [String: Int] == ["boots": 6, "passed": 3, "failed": 2, "errors": 1, "boards": 5])

        let regression = try #require(arrays["regressions"]?.first)
        #expect(arrays["regressions"]?.count == 1)
        #expect(regression["kind"] as? String == "boot")
        #expect(regression["board"] as? String == "rpi4-1")
        #expect(regression["lab"] as? String == "lab-a")
        #expect(regression["new"] as? Bool == true)
        #expect((regression["last_good"] as? [String: Any])?["describe"] as? String == "v6.9-rc1")
        #expect(regression["detail"] as? String == ResultsFixture.panicReason)
        #expect(regression["boot_id"] as? String == ResultsFixture.loggedBootID)
        #expect(arrays["fixed"]?.map { $0["board"] as? String } == ["bbb-2"])
        #expect((arrays["fixed"]?.first?["first_bad"] as? [String: Any])?["describe"] as? String == "v6.8")
        #expect(arrays["flaky"]?.map { $0["board"] as? String } == ["juno-1"])
        #expect(arrays["conflicts"]?.map { $0["board"] as? String } == ["rpi4-1"])
        #expect(arrays["conflicts"]?.first?["other_labs"] as? [String] == ["lab-b"])
        #expect(arrays["errors"]?.map { $0["board"] as? String } == ["qemu-1"])
        #expect(arrays["errors"]?.first?["detail"] as? String == "relay did not answer")
    }

    @Test func htmlReportIsAWholePageWithEscapedText() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(Self.report + ["--format", "html", "--db", database])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let html = result.standardOutput
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.hasSuffix("</html>\n"))
        for tag in ["html", "head", "body", "title", "table", "tr", "h1", "h2"] {
            let opened = html.components(separatedBy: "<\(tag)>").count + html.components(separatedBy: "<\(tag) ").count - 2
            #expect(opened == html.components(separatedBy: "</\(tag)>").count - 1, "<\(tag)> is not closed as often as opened")
        }
        #expect(html.contains("exitcode=&quot;0x0000000b&quot;"))
        #expect(!html.contains(#"exitcode=""#))
        for title in ["Boot regressions (1)", "Conflicts (1)", "Fixed (1)", "Flaky (1)", "Offline boards (1)"] {
            #expect(html.contains("<h2>\(title)</h2>"), "no section \(title)")
        }
    }

    @Test func markdownReportHasATableRowPerFinding() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(Self.report + ["--format", "markdown", "--db", database])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(lines.first == "# mainline/master boot: 6 boots: 2 failed, 3 passed, 1 errors (v6.9-rc2)")
        #expect(
            lines.filter { $0.hasPrefix("## ") } == ["## Boot regressions", "## Conflicts", "## Fixed", "## Flaky", "## Offline boards"])
        // Every row of a table has as many cells as its header.
        var columns: Int?
        for line in lines {
            guard line.hasPrefix("|") else {
                columns = nil
                continue
            }
            let count = line.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count
            if let columns { #expect(count == columns, "row with \(count - 1) cells under a header of \(columns - 1): \(line)") }
            columns = columns ?? count
        }
        #expect(lines.contains { $0.hasPrefix("| arm64 | defconfig | gcc-12 | rpi4-1 | lab-a | new failure: kernel panic") })
    }

    @Test func atomFeedParsesAsXMLWithAnEntryPerRegressionAndConflict() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(Self.report + ["--format", "atom", "--db", database])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let parser = XMLParser(data: Data(result.standardOutput.utf8))
        let outline = XMLOutline()
        parser.delegate = outline
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")")
        #expect(outline.elements.first == "feed")
        #expect(outline.elements.filter { $0 == "entry" }.count == 2)
        #expect(outline.titles.first == "mainline/master boot regressions")
        #expect(outline.titles.contains("boot regression on rpi4-1 (lab-a) at v6.9-rc2"))
        #expect(outline.titles.contains("conflict regression on rpi4-1 (lab-a) at v6.9-rc2"))
    }

    // MARK: e-mail

    @Test func emailReportWithoutSMTPIsPrintedAsAMessage() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(Self.report + ["--format", "email", "--db", database])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let message = result.standardOutput
        #expect(message.contains("\r\nSubject: mainline/master boot: 6 boots: 2 failed, 3 passed, 1 errors (v6.9-rc2)\r\n"))
        #expect(message.contains("\r\nX-Bootfarm-Describe: v6.9-rc2\r\n"))
        let text = try Harness.run(Self.report + ["--db", database]).standardOutput
        let body = try #require(message.range(of: "\r\n\r\n")).upperBound
        #expect(message[body...].replacingOccurrences(of: "\r\n", with: "\n") == text)
    }

    @Test func emailReportIsDeliveredThroughAnSMTPServer() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let server = try SMTPSink()
        defer { server.stop() }
        let result = try Harness.run(
            Self.report + ["--format", "email", "--smtp", "127.0.0.1:\(server.port)", "--to", "dev@example.com", "--db", database],
            timeoutSeconds: 60)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.isEmpty)
        let subject = "mainline/master boot: 6 boots: 2 failed, 3 passed, 1 errors (v6.9-rc2)"
        #expect(result.standardError.contains("sent \"\(subject)\" to dev@example.com through 127.0.0.1:\(server.port)"))

        let received = try server.message(1)
        #expect(received.recipients == ["dev@example.com"])
        let separator = try #require(received.content.range(of: "\r\n\r\n"))
        let headers = received.content[..<separator.lowerBound].components(separatedBy: "\r\n")
        #expect(headers.contains("Subject: \(subject)"))
        #expect(headers.contains("To: dev@example.com"))
        #expect(headers.contains("From: bootfarm <bootfarm@localhost>"))
        let text = try Harness.run(Self.report + ["--db", database]).standardOutput
        #expect(received.content[separator.upperBound...].replacingOccurrences(of: "\r\n", with: "\n") == text)
    }

    @Test func emailReportToAClosedPortIsAnInfrastructureError() throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let port = try Harness.closedPort()
        let result = try Harness.run(
            Self.report + ["--format", "email", "--smtp", "127.0.0.1:\(port)", "--to", "dev@example.com", "--db", database],
            timeoutSeconds: 60)
        #expect(result.exitCode == 3)
        #expect(result.standardError.hasPrefix("bootfarm: error: SMTP 127.0.0.1:\(port): cannot connect"), "\(result.standardError)")
        #expect(result.standardError.contains("the report was not sent"))
    }

    static let contradictoryMailOptions: [(options: [String], words: String)] = [
        (["--format", "email", "--smtp", "127.0.0.1:2525"], "--smtp needs at least one --to address"),
        (["--format", "text", "--smtp", "127.0.0.1:2525", "--to", "dev@example.com"], "contradicts --format text"),
        (["--format", "email", "--to", "dev@example.com"], "--to needs --smtp"),
        (["--format", "email", "--smtp", "127.0.0.1:smtp", "--to", "dev@example.com"], "expected HOST:PORT"),
    ]

    @Test(arguments: contradictoryMailOptions)
    func contradictoryMailOptionsAreAUsageError(options: [String], words: String) throws {
        let workspace = try Workspace()
        let database = try workspace.fixtureStore()
        let result = try Harness.run(Self.report + options + ["--db", database])
        #expect(result.exitCode == 2)
        #expect(result.standardOutput.isEmpty)
        #expect(result.standardError.contains(words), "\(result.standardError)")
    }
}
