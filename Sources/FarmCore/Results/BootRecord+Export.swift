extension BootRecord {
    /// Columns of the CSV export, in order (the JSON Lines field names, without `log`).
    public static let csvColumns = [
        "id", "lab", "board", "board_type", "arch", "defconfig", "compiler", "tree", "branch", "commit", "describe", "commit_time",
        "started_at", "finished_at", "status", "stage", "reason", "boot_time_s", "warnings", "kernel_image_size", "energy_j",
        "avg_power_w", "peak_power_w",
    ]

    private var exportValues: [String?] {
        [
            id, lab, board, boardType, build.arch, build.defconfig, build.compiler, revision.tree, revision.branch, revision.commit,
            revision.describe, revision.commitTime, startedAt, finishedAt, status.rawValue, stage.rawValue, reason,
            bootTimeSeconds.map(Self.number), String(warnings), build.kernelImageSizeBytes.map(String.init), energyJoules.map(Self.number),
            averagePowerWatts.map(Self.number), peakPowerWatts.map(Self.number),
        ]
    }

    private static let numericColumns: Set<String> = [
        "boot_time_s", "warnings", "kernel_image_size", "energy_j", "avg_power_w", "peak_power_w",
    ]

    /// The record as one JSON Lines line (no newline), in the import format; `log`, `power` (a
    /// non-empty trace) and `tests` are added when given.
    public func jsonLine(log: [UInt8]? = nil, power: BootPower? = nil, tests: [TestCase] = []) -> String {
        var text = "{"
        var first = true
        for (column, value) in zip(Self.csvColumns, exportValues) {
            guard let value else { continue }
            if !first { text += "," }
            first = false
            text += "\"\(column)\":"
            if Self.numericColumns.contains(column) {
                text += value
            } else {
                Self.appendJSONString(value, to: &text)
            }
        }
        if !stageTimes.isEmpty {
            text += ",\"stage_times\":{"
            text += Stage.allCases.compactMap { stage in stageTimes[stage].map { "\"\(stage.rawValue)\":\(Self.number($0))" } }.joined(
                separator: ",")
            text += "}"
        }
        if let log {
            text += ",\"log\":"
            Self.appendJSONString(String(decoding: log, as: UTF8.self), to: &text)
        }
        if let power, !power.trace.isEmpty { text += ",\"power\":" + Self.powerJSON(power) }
        if !tests.isEmpty { text += ",\"tests\":" + Self.testsJSON(tests) }
        return text + "}"
    }

    /// The record as one CSV row (RFC 4180 quoting), in `csvColumns` order.
    public var csvRow: String {
        exportValues.map { value in
            guard let value else { return "" }
            if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
                return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return value
        }.joined(separator: ",")
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    static func appendJSONString(_ value: String, to text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }
}
