import Foundation

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
    /// line, so it looks the field up by its first byte and length and then compares bytes,
    /// instead of hashing or comparing against every name.
    static func importFieldIndex(_ key: String) -> Int? { importFieldTable.slot(of: key) }

    /// Field names by first byte and length.
    struct ImportFieldTable: Sendable {
        private let names: [[UInt8]]
        /// Slots by (first byte, length) of each field name: a short list to compare against.
        private let candidates: [[Int]]

        init(_ order: [String]) {
            names = order.map { Array($0.utf8) }
            var candidates = [[Int]](repeating: [], count: 32 * 32)
            for (slot, name) in names.enumerated() {
                precondition(name.count < 32, "import field names are shorter than 32 bytes")
                candidates[Int(name[0] & 0x1F) << 5 | name.count].append(slot)
            }
            self.candidates = candidates
        }

        func slot(of key: String) -> Int? {
            var key = key
            return key.withUTF8 { slot(of: $0) }
        }

        /// The slot of the field named by `bytes` (UTF-8), if it is one.
        func slot(of bytes: UnsafeBufferPointer<UInt8>) -> Int? {
            guard let first = bytes.first, bytes.count < 32, let base = bytes.baseAddress else { return nil }
            for slot in candidates[Int(first & 0x1F) << 5 | bytes.count] {
                let equal = names[slot].withUnsafeBufferPointer { name in
                    name.baseAddress.map { memcmp($0, base, bytes.count) == 0 } ?? false
                }
                if equal { return slot }
            }
            return nil
        }
    }

    static let importFieldTable = ImportFieldTable(importFieldOrder)

    /// The slot of each field, looked up once.
    struct ImportSlots {
        private static func slot(_ name: String) -> Int {
            guard let slot = importFieldIndex(name) else { preconditionFailure("\(name) is not an import field") }
            return slot
        }

        let id = Self.slot("id")
        let lab = Self.slot("lab")
        let board = Self.slot("board")
        let boardType = Self.slot("board_type")
        let arch = Self.slot("arch")
        let defconfig = Self.slot("defconfig")
        let compiler = Self.slot("compiler")
        let tree = Self.slot("tree")
        let branch = Self.slot("branch")
        let commit = Self.slot("commit")
        let describe = Self.slot("describe")
        let commitTime = Self.slot("commit_time")
        let startedAt = Self.slot("started_at")
        let finishedAt = Self.slot("finished_at")
        let status = Self.slot("status")
        let stage = Self.slot("stage")
        let reason = Self.slot("reason")
        let bootTime = Self.slot("boot_time_s")
        let warnings = Self.slot("warnings")
        let kernelImageSize = Self.slot("kernel_image_size")
        let energy = Self.slot("energy_j")
        let averagePower = Self.slot("avg_power_w")
        let peakPower = Self.slot("peak_power_w")
        let log = Self.slot("log")
        let stageTimes = Self.slot("stage_times")
        let power = Self.slot("power")
        let tests = Self.slot("tests")
    }

    static let importSlots = ImportSlots()

    /// Decodes one JSON Lines record. A record without an `id` gets one derived from what
    /// identifies the boot (lab, board, tree, branch, revision, start time), so importing the same
    /// file twice stores it once.
    public static func decodeImport(_ value: JSONValue, line: Int) throws(ImportError) -> ImportedBoot {
        guard case .object(let members) = value else {
            throw ImportError(line: line, field: "", message: "expected a JSON object, found \(value.kindName)")
        }
        // One slot per known field, filled in a single pass (no dictionary: imports run this per line).
        var slots = [JSONValue?](repeating: nil, count: importFieldOrder.count)
        let table = importFieldTable
        for (key, value) in members {
            guard let slot = table.slot(of: key) else {
                throw ImportError(
                    line: line, field: key, message: "unknown field; expected one of: \(importFields.sorted().joined(separator: ", "))")
            }
            guard slots[slot] == nil else {
                throw ImportError(line: line, field: key, message: "appears twice")
            }
            slots[slot] = value
        }
        return try decodeImport(slots: slots, line: line)
    }

    /// Decodes one JSON Lines record from its bytes. A well-formed object of known fields goes
    /// straight into the field slots, its names never made into strings; anything else is parsed
    /// the ordinary way, so errors read the same either way.
    public static func decodeImport(bytes: UnsafeBufferPointer<UInt8>, line: Int) throws(ImportError) -> ImportedBoot {
        var slots = [JSONValue?](repeating: nil, count: importFieldOrder.count)
        let table = importFieldTable
        if JSONParser.parseObject(buffer: bytes, into: &slots, slot: { table.slot(of: $0) }) {
            return try decodeImport(slots: slots, line: line)
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(buffer: bytes)
        } catch {
            throw ImportError(line: line, field: "", message: "not valid JSON: \(error)")
        }
        return try decodeImport(value, line: line)
    }

    /// Decodes a record whose fields are in `slots`, by their place in `importFieldOrder`.
    private static func decodeImport(slots: [JSONValue?], line: Int) throws(ImportError) -> ImportedBoot {
        let slot = importSlots
        func name(_ index: Int) -> String { importFieldOrder[index] }
        func string(_ index: Int, required: Bool = false) throws(ImportError) -> String? {
            let key = name(index)
            switch slots[index] {
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
        func number(_ index: Int) throws(ImportError) -> Double? {
            let key = name(index)
            switch slots[index] {
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
        func integer(_ index: Int) throws(ImportError) -> Int? {
            guard let value = try number(index) else { return nil }
            let key = name(index)
            guard value == value.rounded(), value < 9e18 else {
                throw ImportError(line: line, field: key, message: "expected a whole number, found \(value)")
            }
            return Int(value)
        }
        func timestamp(_ index: Int, required: Bool) throws(ImportError) -> String? {
            guard let text = try string(index, required: required) else { return nil }
            let key = name(index)
            if ISOTimestamp.isCanonical(text) { return text }
            guard let normalized = ISOTimestamp.normalize(text) else {
                throw ImportError(
                    line: line, field: key, message: "expected an ISO-8601 time such as 2026-01-31T12:00:00Z, found '\(text)'")
            }
            return normalized
        }

        let statusText = try string(slot.status, required: true) ?? ""
        guard let status = BootStatus(rawValue: statusText) else {
            throw ImportError(line: line, field: "status", message: "expected one of pass, fail, error, canceled, found '\(statusText)'")
        }
        var stage: Stage = status == .pass ? .prompt : .power
        if let stageText = try string(slot.stage) {
            guard let parsed = Stage(rawValue: stageText) else {
                throw ImportError(
                    line: line, field: "stage",
                    message: "expected one of \(Stage.allCases.map(\.rawValue).joined(separator: ", ")), found '\(stageText)'")
            }
            stage = parsed
        }
        var stageTimes: [Stage: Double] = [:]
        switch slots[slot.stageTimes] {
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
        let givenID = try string(slot.id)
        if let givenID, givenID.isEmpty || givenID.utf8.count > 200 {
            throw ImportError(line: line, field: "id", message: "must be 1 to 200 characters")
        }
        let tree = try string(slot.tree, required: true) ?? ""
        let describe = try string(slot.describe) ?? ""
        let commit = try string(slot.commit) ?? ""
        if describe.isEmpty && commit.isEmpty {
            throw ImportError(line: line, field: "describe", message: "missing: a record needs 'describe' or 'commit' to name its revision")
        }
        let lab = try string(slot.lab, required: true) ?? ""
        let board = try string(slot.board, required: true) ?? ""
        let branch = try string(slot.branch, required: true) ?? ""
        let startedAt = try timestamp(slot.startedAt, required: true) ?? ""
        let id = givenID ?? derivedID([lab, board, tree, branch, describe, commit, startedAt])
        let record = BootRecord(
            id: id,
            lab: lab,
            board: board,
            boardType: try string(slot.boardType, required: true) ?? "",
            revision: Revision(
                tree: tree, branch: branch, commit: commit,
                describe: describe.isEmpty ? commit : describe, commitTime: try timestamp(slot.commitTime, required: false)),
            build: Build(
                arch: try string(slot.arch) ?? "", defconfig: try string(slot.defconfig) ?? "",
                compiler: try string(slot.compiler) ?? "", kernelImageSizeBytes: try integer(slot.kernelImageSize)),
            startedAt: startedAt,
            finishedAt: try timestamp(slot.finishedAt, required: false),
            status: status, stage: stage, reason: try string(slot.reason) ?? "",
            bootTimeSeconds: try number(slot.bootTime), warnings: try integer(slot.warnings) ?? 0, stageTimes: stageTimes,
            energyJoules: try number(slot.energy), averagePowerWatts: try number(slot.averagePower),
            peakPowerWatts: try number(slot.peakPower))
        let log = try string(slot.log).map { Array($0.utf8) }
        let power = try slots[slot.power].flatMap { value throws(ImportError) in try decodePower(value, line: line) }
        let tests = try slots[slot.tests].map { value throws(ImportError) in try decodeTests(value, line: line) } ?? []
        return ImportedBoot(record: record, log: log, power: power, tests: tests)
    }
}
