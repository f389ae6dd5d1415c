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

/// Serialises JSON objects the same way everywhere: sorted keys, no escaped slashes.
public enum JSONOutput {
    /// `object` as UTF-8 JSON text; pretty-printed on request.
    public static func text(_ object: Any, pretty: Bool = false) -> String {
        var options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        if pretty { options.insert(.prettyPrinted) }
        guard JSONSerialization.isValidJSONObject(object), let data = try? JSONSerialization.data(withJSONObject: object, options: options)
        else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }
}
