import FarmCore
import FarmReports
import Foundation
import Testing

@Suite struct KCIDBExportTests {
    static let commitA = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
    static let commitB = "89abcdef0123456789abcdef0123456789abcdef"
    static let revisionA = Revision(
        tree: "mainline", branch: "master", commit: commitA, describe: "v6.9-rc1", commitTime: "2026-03-01T10:00:00Z")
    static let revisionB = Revision(
        tree: "mainline", branch: "master", commit: commitB, describe: "v6.9-rc1-5-g89abcdef0123", commitTime: "2026-03-02T10:00:00Z")
    static let arm64 = Build(arch: "arm64", defconfig: "defconfig", compiler: "gcc-12", kernelImageSizeBytes: 23_456_789)
    static let x86 = Build(arch: "x86_64", defconfig: "x86_64_defconfig", compiler: "gcc-12")

    /// Two labs, two revisions, two arches; one boot of each status.
    static let records: [BootRecord] = [
        BootRecord(
            id: "boot-1", lab: "lab-a", board: "rock5b-1", boardType: "rock5b-uboot", revision: revisionA, build: arm64,
            startedAt: "2026-03-03T08:00:00Z", finishedAt: "2026-03-03T08:00:42.500Z", status: .pass, stage: .prompt,
            bootTimeSeconds: 4.25, stageTimes: [.bootloader: 0.8, .kernel: 2.1, .prompt: 4.25],
            energyJoules: 18.5, averagePowerWatts: 3.2, peakPowerWatts: 5.9),
        BootRecord(
            id: "boot-2", lab: "lab-a", board: "rock5b-1", boardType: "rock5b-uboot", revision: revisionB, build: arm64,
            startedAt: "2026-03-03T09:00:00Z", finishedAt: "2026-03-03T09:01:00Z", status: .fail, stage: .kernel,
            reason: "kernel panic: Attempted to kill init!", warnings: 2),
        BootRecord(
            id: "boot-3", lab: "lab-b", board: "qemu-x86-1", boardType: "qemu-x86_64", revision: revisionA, build: x86,
            startedAt: "2026-03-03T08:30:00+01:00", status: .error, stage: .power, reason: "relay usb-relay-1 did not answer"),
        BootRecord(
            id: "boot-4", lab: "lab-b", board: "qemu-x86-1", boardType: "qemu-x86_64", revision: revisionB, build: x86,
            startedAt: "2026-03-03T09:30:00Z", status: .canceled, stage: .kernel, reason: "canceled by agent shutdown"),
        BootRecord(
            id: "boot-5", lab: "lab-b", board: "qemu-x86-2", boardType: "qemu-x86_64", revision: revisionA, build: x86,
            startedAt: "2026-03-03T07:45:00Z", finishedAt: "2026-03-03T07:45:09Z", status: .pass, stage: .prompt,
            bootTimeSeconds: 3.0),
    ]

    @Test func exportIsValidForTheLatestKCIDBSchema() throws {
        let result = try KCIDBValidator.validate(KCIDBExport.document(Self.records, origin: "bootfarm"))
        #expect(result.status == 0, "kcidb-io rejected the export:\n\(result.errors)")
        // The validator prints the schema version it checked and the number of objects it counted.
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "5.3 14", "stderr: \(result.errors)")
    }

    @Test func exportDeclaresTheLatestSchemaVersion() {
        let document = KCIDBExport.document(Self.records, origin: "bootfarm")
        let version = document["version"] as? [String: Any]
        #expect(version?["major"] as? Int == 5)
        #expect(version?["minor"] as? Int == 3)
    }

    @Test func exportHasOneCheckoutPerRevisionOneBuildPerConfigurationAndATestPerBootAndMeasurement() {
        let document = KCIDBExport.document(Self.records, origin: "bootfarm")
        let checkouts = objects(document, "checkouts")
        let builds = objects(document, "builds")
        let tests = objects(document, "tests")
        #expect(checkouts.count == 2)
        #expect(builds.count == 4)
        #expect(tests.count == 8)
        #expect(tests.compactMap { $0["path"] as? String }.filter { $0 == "boot" }.count == 5)

        let checkoutIDs = Set(ids(document, "checkouts"))
        let buildIDs = Set(ids(document, "builds"))
        #expect(builds.allSatisfy { checkoutIDs.contains($0["checkout_id"] as? String ?? "") })
        #expect(tests.allSatisfy { buildIDs.contains($0["build_id"] as? String ?? "") })

        let checkoutA = checkouts.first { $0["git_commit_hash"] as? String == Self.commitA }
        #expect(checkoutA?["tree_name"] as? String == "mainline")
        #expect(checkoutA?["git_repository_branch"] as? String == "master")
        #expect(checkoutA?["git_commit_name"] as? String == "v6.9-rc1")
        // The earliest boot of the revision (boot-5), although it comes last.
        #expect(checkoutA?["start_time"] as? String == "2026-03-03T07:30:00Z")

        let arm64A = builds.first {
            $0["architecture"] as? String == "arm64" && $0["checkout_id"] as? String == checkoutA?["id"] as? String
        }
        #expect(arm64A?["config_name"] as? String == "defconfig")
        #expect(arm64A?["compiler"] as? String == "gcc-12")
        #expect(arm64A?["status"] as? String == "PASS")
        #expect((arm64A?["misc"] as? [String: Any])?["kernel_image_size"] as? Int == 23_456_789)
    }

    @Test func bootStatusesMapToKCIDBStatuses() {
        let document = KCIDBExport.document(Self.records, origin: "bootfarm")
        let statuses = Dictionary(
            uniqueKeysWithValues: objects(document, "tests").filter { $0["path"] as? String == "boot" }
                .compactMap { test in (test["id"] as? String).map { ($0, test["status"] as? String ?? "") } })
        #expect(statuses["bootfarm:boot-1:boot"] == "PASS")
        #expect(statuses["bootfarm:boot-2:boot"] == "FAIL")
        #expect(statuses["bootfarm:boot-3:boot"] == "MISS")
        #expect(statuses["bootfarm:boot-4:boot"] == "SKIP")
    }

    @Test func bootTestCarriesBootTimeEnvironmentAndReason() {
        let tests = objects(KCIDBExport.document(Self.records, origin: "bootfarm"), "tests")
        let passed = tests.first { $0["id"] as? String == "bootfarm:boot-1:boot" }
        let number = passed?["number"] as? [String: Any]
        #expect(number?["value"] as? Double == 4.25)
        #expect(number?["unit"] as? String == "s")
        #expect(passed?["start_time"] as? String == "2026-03-03T08:00:00Z")
        #expect(passed?["duration"] as? Double == 42.5)
        let environment = passed?["environment"] as? [String: Any]
        #expect(environment?["comment"] as? String == "board rock5b-1 (rock5b-uboot) in lab lab-a")
        let environmentMisc = environment?["misc"] as? [String: Any]
        #expect(environmentMisc?["lab"] as? String == "lab-a")
        #expect(environmentMisc?["board"] as? String == "rock5b-1")
        #expect(environmentMisc?["board_type"] as? String == "rock5b-uboot")

        let failed = tests.first { $0["id"] as? String == "bootfarm:boot-2:boot" }
        #expect(failed?["comment"] as? String == "kernel panic: Attempted to kill init!")
        #expect(failed?["number"] == nil)
        let misc = failed?["misc"] as? [String: Any]
        #expect(misc?["status"] as? String == "fail")
        #expect(misc?["stage"] as? String == "kernel")
        #expect(misc?["warnings"] as? Int == 2)
    }

    @Test func powerMeasurementsAreTestsUnderBoot() {
        let tests = objects(KCIDBExport.document(Self.records, origin: "bootfarm"), "tests")
        func measurement(_ path: String) -> (value: Double?, unit: String?, status: String?) {
            let test = tests.first { $0["id"] as? String == "bootfarm:boot-1:\(path)" }
            let number = test?["number"] as? [String: Any]
            #expect(test?["path"] as? String == path)
            return (number?["value"] as? Double, number?["unit"] as? String, test?["status"] as? String)
        }
        #expect(measurement("boot.energy") == (18.5, "J", "DONE"))
        #expect(measurement("boot.power.avg") == (3.2, "W", "DONE"))
        #expect(measurement("boot.power.peak") == (5.9, "W", "DONE"))
        #expect(!tests.contains { ($0["id"] as? String)?.hasPrefix("bootfarm:boot-5:boot.") == true })
    }

    @Test func idsAreStableAcrossExportsAndRecordOrder() {
        let first = KCIDBExport.document(Self.records, origin: "bootfarm")
        let second = KCIDBExport.document(Self.records, origin: "bootfarm")
        let reversed = KCIDBExport.document(Self.records.reversed(), origin: "bootfarm")
        #expect(JSONOutput.text(first) == JSONOutput.text(second))
        for list in ["checkouts", "builds", "tests"] {
            let firstIDs = ids(first, list)
            #expect(firstIDs.allSatisfy { $0.hasPrefix("bootfarm:") })
            #expect(Set(firstIDs).count == firstIDs.count)
            #expect(Set(ids(reversed, list)) == Set(firstIDs))
        }
        // A subset exports the same ids for the objects it shares.
        let subset = KCIDBExport.document([Self.records[0]], origin: "bootfarm")
        for list in ["checkouts", "builds", "tests"] {
            #expect(Set(ids(subset, list)).isSubset(of: ids(first, list)))
        }
    }

    @Test func originIsFoldedToWhatKCIDBAccepts() throws {
        #expect(KCIDBExport.originName("Boot-Farm lab") == "boot_farm_lab")
        #expect(KCIDBExport.originName("") == "bootfarm")
        let document = KCIDBExport.document(Self.records, origin: "Boot-Farm")
        #expect(objects(document, "tests").allSatisfy { $0["origin"] as? String == "boot_farm" })
        let result = try KCIDBValidator.validate(document)
        #expect(result.status == 0, "kcidb-io rejected the export:\n\(result.errors)")
    }

    @Test(arguments: KCIDBValidator.Breakage.allCases)
    func validatorRejectsABrokenDocument(_ breakage: KCIDBValidator.Breakage) throws {
        var document = KCIDBExport.document(Self.records, origin: "bootfarm")
        breakage.apply(to: &document)
        let result = try KCIDBValidator.validate(document)
        #expect(result.status != 0, "kcidb-io accepted a document with \(breakage)")
        #expect(result.errors.contains(breakage.expectedError), "stderr: \(result.errors)")
    }

    func objects(_ document: [String: Any], _ list: String) -> [[String: Any]] {
        document[list] as? [[String: Any]] ?? []
    }

    func ids(_ document: [String: Any], _ list: String) -> [String] {
        objects(document, list).compactMap { $0["id"] as? String }
    }
}

/// Runs the `kcidb-io` Python package on a document: exit status 0 when it is valid for the
/// package's latest schema, non-zero with the reason on stderr otherwise.
enum KCIDBValidator {
    static let script = """
        import json, sys
        import jsonschema
        from kcidb_io import schema
        with open(sys.argv[1]) as file:
            data = json.load(file)
        latest = schema.LATEST
        version = data.get("version", {})
        if (version.get("major"), version.get("minor")) != (latest.major, latest.minor):
            sys.exit(f"document declares schema {version}, the latest is {latest.major}.{latest.minor}")
        try:
            latest.validate_exactly(data)
        except jsonschema.exceptions.ValidationError as error:
            sys.exit(f"invalid at {'/'.join(map(str, error.absolute_path))}: {error.message}")
        print(f"{latest.major}.{latest.minor}", latest.count(data))
        """

    /// Ways to break an exported document, each of which the schema must reject.
    enum Breakage: String, CaseIterable, CustomStringConvertible {
        case testWithoutOrigin
        case buildWithUnknownStatus
        case checkoutIDWithoutOrigin
        case startTimeWithoutZone

        var description: String { rawValue }

        var expectedError: String {
            switch self {
            case .testWithoutOrigin: "'origin' is a required property"
            case .buildWithUnknownStatus: "'BROKEN' is not one of"
            case .checkoutIDWithoutOrigin: "does not match"
            case .startTimeWithoutZone: "is not a 'date-time'"
            }
        }

        func apply(to document: inout [String: Any]) {
            func edit(_ list: String, _ change: (inout [String: Any]) -> Void) {
                var objects = document[list] as? [[String: Any]] ?? []
                if !objects.isEmpty { change(&objects[0]) }
                document[list] = objects
            }
            switch self {
            case .testWithoutOrigin: edit("tests") { $0["origin"] = nil }
            case .buildWithUnknownStatus: edit("builds") { $0["status"] = "BROKEN" }
            case .checkoutIDWithoutOrigin: edit("checkouts") { $0["id"] = "no origin prefix" }
            case .startTimeWithoutZone: edit("tests") { $0["start_time"] = "2026-03-03T08:00:00" }
            }
        }
    }

    struct Result {
        var status: Int32
        var output: String
        var errors: String
    }

    /// Writes `document` to a temporary file and runs `python3` on it.
    static func validate(_ document: [String: Any]) throws -> Result {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kcidb-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let documentFile = folder.appendingPathComponent("kcidb.json")
        try Data(JSONOutput.text(document, pretty: true).utf8).write(to: documentFile)
        // Output goes to files, not pipes, so a chatty child can never block on a full pipe.
        let outputFile = folder.appendingPathComponent("stdout")
        let errorFile = folder.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, documentFile.path]
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        try process.run()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            output: String(decoding: try Data(contentsOf: outputFile), as: UTF8.self),
            errors: String(decoding: try Data(contentsOf: errorFile), as: UTF8.self))
    }
}
