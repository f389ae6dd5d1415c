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
    /// `"column":` for each of `csvColumns`, and whether its value is a number.
    private static let jsonKeys = csvColumns.map { Array("\"\($0)\":".utf8) }
    private static let numericColumnFlags = csvColumns.map { numericColumns.contains($0) }

    /// The record as one JSON Lines line (no newline), in the import format; `log`, `power` (a
    /// non-empty trace) and `tests` are added when given. Written as bytes and turned into a
    /// string once: listings write thousands of these.
    public func jsonLine(log: [UInt8]? = nil, power: BootPower? = nil, tests: [TestCase] = []) -> String {
        var bytes: [UInt8] = [UInt8(ascii: "{")]
        bytes.reserveCapacity(512 + (log?.count ?? 0) * 11 / 10)
        var first = true
        for (index, value) in exportValues.enumerated() {
            guard let value else { continue }
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            bytes += Self.jsonKeys[index]
            if Self.numericColumnFlags[index] {
                bytes += value.utf8
            } else {
                Self.appendJSONString(value.utf8, to: &bytes)
            }
        }
        if !stageTimes.isEmpty {
            bytes += #","stage_times":{"#.utf8
            var firstStage = true
            for stage in Stage.allCases {
                guard let seconds = stageTimes[stage] else { continue }
                if !firstStage { bytes.append(UInt8(ascii: ",")) }
                firstStage = false
                bytes += "\"\(stage.rawValue)\":\(Self.number(seconds))".utf8
            }
            bytes.append(UInt8(ascii: "}"))
        }
        if let log {
            bytes += #","log":"#.utf8
            Self.appendJSONString(String(decoding: log, as: UTF8.self).utf8, to: &bytes)
        }
        var text = String(decoding: bytes, as: UTF8.self)
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

    /// Appends `value` as a JSON string. Most values need no escape and are appended whole;
    /// the others are escaped byte by byte (UTF-8 sequences pass through unchanged).
    static func appendJSONString(_ value: String, to text: inout String) {
        if value.utf8.allSatisfy(Self.isPlain) {
            text += "\""
            text += value
            text += "\""
            return
        }
        var bytes: [UInt8] = []
        appendJSONString(value.utf8, to: &bytes)
        text += String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the UTF-8 bytes of a JSON string with its quotes.
    static func appendJSONString(_ utf8: String.UTF8View, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        if utf8.allSatisfy(Self.isPlain) {
            bytes += utf8
            bytes.append(UInt8(ascii: "\""))
            return
        }
        let hex = Array("0123456789abcdef".utf8)
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case UInt8(ascii: "\n"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case UInt8(ascii: "\r"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case UInt8(ascii: "\t"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0..<0x20, 0x7F:
                bytes += [
                    UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)],
                ]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// A byte a JSON string holds as it is.
    private static func isPlain(_ byte: UInt8) -> Bool {
        byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") && byte != 0x7F
    }
}
