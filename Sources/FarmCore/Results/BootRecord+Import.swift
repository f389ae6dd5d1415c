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
}

extension BootRecord {
    /// Fields an imported record may have.
    public static let importFields: Set<String> = [
        "id", "lab", "board", "board_type", "arch", "defconfig", "compiler", "tree", "branch", "commit", "describe",
        "commit_time", "started_at", "finished_at", "status", "stage", "reason", "boot_time_s", "warnings",
        "kernel_image_size", "energy_j", "avg_power_w", "peak_power_w", "log", "stage_times",
    ]

    /// Decodes one JSON Lines record. `makeID` supplies an id when the record has none.
    public static func decodeImport(_ value: JSONValue, line: Int, makeID: () -> String) throws(ImportError) -> ImportedBoot {
        guard case .object(let members) = value else {
            throw ImportError(line: line, field: "", message: "expected a JSON object, found \(value.kindName)")
        }
        var fields: [String: JSONValue] = [:]
        for (key, value) in members {
            guard importFields.contains(key) else {
                throw ImportError(
                    line: line, field: key, message: "unknown field; expected one of: \(importFields.sorted().joined(separator: ", "))")
            }
            guard fields.updateValue(value, forKey: key) == nil else {
                throw ImportError(line: line, field: key, message: "appears twice")
            }
        }
        func string(_ key: String, required: Bool = false) throws(ImportError) -> String? {
            switch fields[key] {
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
            switch fields[key] {
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
        switch fields["stage_times"] {
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
        let id = try string("id") ?? makeID()
        if id.isEmpty || id.utf8.count > 200 {
            throw ImportError(line: line, field: "id", message: "must be 1 to 200 characters")
        }
        let tree = try string("tree", required: true) ?? ""
        let describe = try string("describe") ?? ""
        let commit = try string("commit") ?? ""
        if describe.isEmpty && commit.isEmpty {
            throw ImportError(line: line, field: "describe", message: "missing: a record needs 'describe' or 'commit' to name its revision")
        }
        let record = BootRecord(
            id: id,
            lab: try string("lab", required: true) ?? "",
            board: try string("board", required: true) ?? "",
            boardType: try string("board_type", required: true) ?? "",
            revision: Revision(
                tree: tree, branch: try string("branch", required: true) ?? "", commit: commit,
                describe: describe.isEmpty ? commit : describe, commitTime: try timestamp("commit_time", required: false)),
            build: Build(
                arch: try string("arch") ?? "", defconfig: try string("defconfig") ?? "", compiler: try string("compiler") ?? "",
                kernelImageSizeBytes: try integer("kernel_image_size")),
            startedAt: try timestamp("started_at", required: true) ?? "",
            finishedAt: try timestamp("finished_at", required: false),
            status: status, stage: stage, reason: try string("reason") ?? "",
            bootTimeSeconds: try number("boot_time_s"), warnings: try integer("warnings") ?? 0, stageTimes: stageTimes,
            energyJoules: try number("energy_j"), averagePowerWatts: try number("avg_power_w"), peakPowerWatts: try number("peak_power_w"))
        let log = try string("log").map { Array($0.utf8) }
        return ImportedBoot(record: record, log: log)
    }
}
