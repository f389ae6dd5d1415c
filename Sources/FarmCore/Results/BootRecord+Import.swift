/// A record that cannot be imported, with the line and field at fault.
public struct ImportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line in the file.
    public var line: Int
    /// The field at fault; empty when the line as a whole is.
    public var field: String
    public var message: String

    public init(line: Int, field: String, message: String) {
        self.line = line
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "line \(line): \(message)" : "line \(line): field '\(field)': \(message)"
    }
}

/// A boot record as imported: the record and its console log, if the line carried one.
public struct ImportedBoot: Sendable {
    public var record: BootRecord
    public var log: [UInt8]?
    /// The power trace with its per-stage energy (`power`), when the record has one.
    public var power: BootPower?
    /// The test cases run after boot (`tests`).
    public var tests: [TestCase]

    public init(record: BootRecord, log: [UInt8]? = nil, power: BootPower? = nil, tests: [TestCase] = []) {
        self.record = record
        self.log = log
        self.power = power
        self.tests = tests
    }
}

extension BootRecord {
    /// Fields an imported record may have.
    public static let importFields: Set<String> = [
        "id", "lab", "board", "board_type", "arch", "defconfig", "compiler", "tree", "branch", "commit", "describe",
        "commit_time", "started_at", "finished_at", "status", "stage", "reason", "boot_time_s", "warnings",
        "kernel_image_size", "energy_j", "avg_power_w", "peak_power_w", "log", "stage_times", "power", "tests",
    ]

    /// A stable id from identifying fields: `boot-` and 16 hex digits of their FNV-1a hash.
    static func derivedID(_ parts: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for part in parts {
            for byte in part.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
            hash ^= 0x1F
            hash = hash &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "boot-" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    static let importFieldOrder = importFields.sorted()

    /// The slot of a field in `importFieldOrder`. Imports run this for every field of every
    /// line, so it looks the field up by its length, first and last byte (distinct for every
    /// field name) and then compares once, instead of comparing against every name.
    static func importFieldIndex(_ key: String) -> Int? {
        let utf8 = key.utf8
        guard let first = utf8.first, let last = utf8.last,
            let slot = importFieldSlots[utf8.count << 16 | Int(first) << 8 | Int(last)]
        else { return nil }
        return importFieldOrder[slot] == key ? slot : nil
    }

    /// Slot by (length, first byte, last byte) of each field name.
    private static let importFieldSlots: [Int: Int] = {
        var slots: [Int: Int] = [:]
        for (slot, name) in importFieldOrder.enumerated() {
            let utf8 = name.utf8
            let signature = utf8.count << 16 | Int(utf8.first ?? 0) << 8 | Int(utf8.last ?? 0)
            precondition(slots.updateValue(slot, forKey: signature) == nil, "two import fields share a signature: \(name)")
        }
        return slots
    }()

    /// Decodes one JSON Lines record. A record without an `id` gets one derived from what
    /// identifies the boot (lab, board, tree, branch, revision, start time), so importing the same
    /// file twice stores it once.
    public static func decodeImport(_ value: JSONValue, line: Int) throws(ImportError) -> ImportedBoot {
        guard case .object(let members) = value else {
            throw ImportError(line: line, field: "", message: "expected a JSON object, found \(value.kindName)")
        }
        // One slot per known field, filled in a single pass (no dictionary: imports run this per line).
        var slots = [JSONValue?](repeating: nil, count: importFieldOrder.count)
        for (key, value) in members {
            guard let slot = importFieldIndex(key) else {
                throw ImportError(
                    line: line, field: key, message: "unknown field; expected one of: \(importFields.sorted().joined(separator: ", "))")
            }
            guard slots[slot] == nil else {
                throw ImportError(line: line, field: key, message: "appears twice")
            }
            slots[slot] = value
        }
        func field(_ key: String) -> JSONValue? { importFieldIndex(key).flatMap { slots[$0] } }
        func string(_ key: String, required: Bool = false) throws(ImportError) -> String? {
            switch field(key) {
            case .string(let text)?:
                if required && text.isEmpty { throw ImportError(line: line, field: key, message: "must not be empty") }
                return text
            case nil, .null?:
                if required { throw ImportError(line: line, field: key, message: "missing (required)") }
                return nil
            case let other?:
                throw ImportError(line: line, field: key, message: "expected a string, found \(other.kindName)")
            }
        }
        func number(_ key: String) throws(ImportError) -> Double? {
            switch field(key) {
            case .number(let text)?:
                guard let value = Double(text), value.isFinite, value >= 0 else {
                    throw ImportError(line: line, field: key, message: "expected a non-negative number, found \(text)")
                }
                return value
            case nil, .null?:
                return nil
            case let other?:
                throw ImportError(line: line, field: key, message: "expected a number, found \(other.kindName)")
            }
        }
        func integer(_ key: String) throws(ImportError) -> Int? {
            guard let value = try number(key) else { return nil }
            guard value == value.rounded(), value < 9e18 else {
                throw ImportError(line: line, field: key, message: "expected a whole number, found \(value)")
            }
            return Int(value)
        }
        func timestamp(_ key: String, required: Bool) throws(ImportError) -> String? {
            guard let text = try string(key, required: required) else { return nil }
            if ISOTimestamp.isCanonical(text) { return text }
            guard let normalized = ISOTimestamp.normalize(text) else {
                throw ImportError(
                    line: line, field: key, message: "expected an ISO-8601 time such as 2026-01-31T12:00:00Z, found '\(text)'")
            }
            return normalized
        }

        let statusText = try string("status", required: true) ?? ""
        guard let status = BootStatus(rawValue: statusText) else {
            throw ImportError(line: line, field: "status", message: "expected one of pass, fail, error, canceled, found '\(statusText)'")
        }
        var stage: Stage = status == .pass ? .prompt : .power
        if let stageText = try string("stage") {
            guard let parsed = Stage(rawValue: stageText) else {
                throw ImportError(
                    line: line, field: "stage",
                    message: "expected one of \(Stage.allCases.map(\.rawValue).joined(separator: ", ")), found '\(stageText)'")
            }
            stage = parsed
        }
        var stageTimes: [Stage: Double] = [:]
        switch field("stage_times") {
        case .object(let entries)?:
            for (key, value) in entries {
                guard let stage = Stage(rawValue: key), case .number(let text) = value, let seconds = Double(text) else {
                    throw ImportError(
                        line: line, field: "stage_times", message: "expected stage names with numbers of seconds, found '\(key)'")
                }
                stageTimes[stage] = seconds
            }
        case nil, .null?:
            break
        case let other?:
            throw ImportError(line: line, field: "stage_times", message: "expected an object, found \(other.kindName)")
        }
        let givenID = try string("id")
        if let givenID, givenID.isEmpty || givenID.utf8.count > 200 {
            throw ImportError(line: line, field: "id", message: "must be 1 to 200 characters")
        }
        let tree = try string("tree", required: true) ?? ""
        let describe = try string("describe") ?? ""
        let commit = try string("commit") ?? ""
        if describe.isEmpty && commit.isEmpty {
            throw ImportError(line: line, field: "describe", message: "missing: a record needs 'describe' or 'commit' to name its revision")
        }
        let lab = try string("lab", required: true) ?? ""
        let board = try string("board", required: true) ?? ""
        let branch = try string("branch", required: true) ?? ""
        let startedAt = try timestamp("started_at", required: true) ?? ""
        let id = givenID ?? derivedID([lab, board, tree, branch, describe, commit, startedAt])
        let record = BootRecord(
            id: id,
            lab: lab,
            board: board,
            boardType: try string("board_type", required: true) ?? "",
            revision: Revision(
                tree: tree, branch: branch, commit: commit,
                describe: describe.isEmpty ? commit : describe, commitTime: try timestamp("commit_time", required: false)),
            build: Build(
                arch: try string("arch") ?? "", defconfig: try string("defconfig") ?? "", compiler: try string("compiler") ?? "",
                kernelImageSizeBytes: try integer("kernel_image_size")),
            startedAt: startedAt,
            finishedAt: try timestamp("finished_at", required: false),
            status: status, stage: stage, reason: try string("reason") ?? "",
            bootTimeSeconds: try number("boot_time_s"), warnings: try integer("warnings") ?? 0, stageTimes: stageTimes,
            energyJoules: try number("energy_j"), averagePowerWatts: try number("avg_power_w"), peakPowerWatts: try number("peak_power_w"))
        let log = try string("log").map { Array($0.utf8) }
        let power = try field("power").flatMap { value throws(ImportError) in try decodePower(value, line: line) }
        let tests = try field("tests").map { value throws(ImportError) in try decodeTests(value, line: line) } ?? []
        return ImportedBoot(record: record, log: log, power: power, tests: tests)
    }
}
