import Foundation

extension BootRecord {
    /// The record as a JSON object with the field names every bootfarm JSON output and import
    /// uses (`board_type`, `boot_time_s`, `kernel_image_size`, ...). Absent values are omitted.
    public var jsonObject: [String: Any] {
        var object: [String: Any] = [
            "id": id, "lab": lab, "board": board, "board_type": boardType,
            "arch": build.arch, "defconfig": build.defconfig, "compiler": build.compiler,
            "tree": revision.tree, "branch": revision.branch, "commit": revision.commit, "describe": revision.describe,
            "started_at": startedAt, "status": status.rawValue, "stage": stage.rawValue, "reason": reason,
            "warnings": warnings,
            "stage_times": Dictionary(uniqueKeysWithValues: stageTimes.map { ($0.key.rawValue, $0.value) }),
        ]
        object["commit_time"] = revision.commitTime
        object["finished_at"] = finishedAt
        object["boot_time_s"] = bootTimeSeconds
        object["kernel_image_size"] = build.kernelImageSizeBytes
        object["energy_j"] = energyJoules
        object["avg_power_w"] = averagePowerWatts
        object["peak_power_w"] = peakPowerWatts
        return object
    }
}

/// Serialises JSON objects the same way everywhere: sorted keys, no escaped slashes, numbers
/// as written by Swift. Written by hand because Foundation's serialiser is slow on Linux for the
/// large reports and listings bootfarm prints.
public enum JSONOutput {
    /// `object` (dictionaries, arrays, strings, numbers, booleans, NSNull) as JSON text.
    public static func text(_ object: Any, pretty: Bool = false) -> String {
        var output = ""
        write(object, to: &output, pretty: pretty, indent: 0)
        return output
    }

    private static func write(_ value: Any, to output: inout String, pretty: Bool, indent: Int) {
        switch value {
        case let string as String:
            BootRecord.appendJSONString(string, to: &output)
        case let bool as Bool:
            output += bool ? "true" : "false"
        case let integer as Int:
            output += String(integer)
        case let double as Double:
            output += double.isFinite ? BootRecord.number(double) : "null"
        case let number as NSNumber:
            output += number.stringValue
        case let dictionary as [String: Any]:
            if dictionary.isEmpty {
                output += "{}"
                return
            }
            output += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                if pretty { output += "\n" + String(repeating: "  ", count: indent + 1) }
                BootRecord.appendJSONString(key, to: &output)
                output += pretty ? ": " : ":"
                write(dictionary[key] ?? NSNull(), to: &output, pretty: pretty, indent: indent + 1)
            }
            if pretty { output += "\n" + String(repeating: "  ", count: indent) }
            output += "}"
        case let array as [Any]:
            if array.isEmpty {
                output += "[]"
                return
            }
            output += "["
            for (index, item) in array.enumerated() {
                if index > 0 { output += "," }
                if pretty { output += "\n" + String(repeating: "  ", count: indent + 1) }
                write(item, to: &output, pretty: pretty, indent: indent + 1)
            }
            if pretty { output += "\n" + String(repeating: "  ", count: indent) }
            output += "]"
        default:
            output += "null"
        }
    }
}
