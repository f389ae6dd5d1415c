import FarmCore
import Foundation

/// Maps `BootRecord` to and from a row of `boots`.
enum BootRow {
    static let columns = """
        id, lab, board, board_type, arch, defconfig, compiler, tree, branch, "commit", describe, commit_time, \
        started_at, finished_at, status, stage, reason, boot_time_s, warnings, kernel_image_size, energy_j, \
        avg_power_w, peak_power_w, stage_times
        """

    static let insertSQL = "INSERT OR REPLACE INTO boots (\(columns)) VALUES (\(Array(repeating: "?", count: 24).joined(separator: ", ")))"

    static func bind(_ record: BootRecord, to statement: SQLiteStatement) {
        statement.bind(1, record.id)
        statement.bind(2, record.lab)
        statement.bind(3, record.board)
        statement.bind(4, record.boardType)
        statement.bind(5, record.build.arch)
        statement.bind(6, record.build.defconfig)
        statement.bind(7, record.build.compiler)
        statement.bind(8, record.revision.tree)
        statement.bind(9, record.revision.branch)
        statement.bind(10, record.revision.commit)
        statement.bind(11, record.revision.describe)
        statement.bind(12, record.revision.commitTime)
        statement.bind(13, record.startedAt)
        statement.bind(14, record.finishedAt)
        statement.bind(15, record.status.rawValue)
        statement.bind(16, record.stage.rawValue)
        statement.bind(17, record.reason)
        statement.bind(18, record.bootTimeSeconds)
        statement.bind(19, record.warnings)
        statement.bind(20, record.build.kernelImageSizeBytes)
        statement.bind(21, record.energyJoules)
        statement.bind(22, record.averagePowerWatts)
        statement.bind(23, record.peakPowerWatts)
        statement.bind(24, encodeStageTimes(record.stageTimes))
    }

    static func read(_ statement: SQLiteStatement) -> BootRecord {
        BootRecord(
            id: statement.string(0) ?? "",
            lab: statement.string(1) ?? "",
            board: statement.string(2) ?? "",
            boardType: statement.string(3) ?? "",
            revision: Revision(
                tree: statement.string(7) ?? "", branch: statement.string(8) ?? "", commit: statement.string(9) ?? "",
                describe: statement.string(10) ?? "", commitTime: statement.string(11)),
            build: Build(
                arch: statement.string(4) ?? "", defconfig: statement.string(5) ?? "", compiler: statement.string(6) ?? "",
                kernelImageSizeBytes: statement.int(19)),
            startedAt: statement.string(12) ?? "",
            finishedAt: statement.string(13),
            status: BootStatus(rawValue: statement.string(14) ?? "") ?? .error,
            stage: Stage(rawValue: statement.string(15) ?? "") ?? .power,
            reason: statement.string(16) ?? "",
            bootTimeSeconds: statement.double(17),
            warnings: statement.int(18) ?? 0,
            stageTimes: decodeStageTimes(statement.string(23) ?? "{}"),
            energyJoules: statement.double(20),
            averagePowerWatts: statement.double(21),
            peakPowerWatts: statement.double(22))
    }

    static func encodeStageTimes(_ times: [Stage: Double]) -> String {
        let object = Dictionary(uniqueKeysWithValues: times.map { ($0.key.rawValue, $0.value) })
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeStageTimes(_ text: String) -> [Stage: Double] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Double] else { return [:] }
        var times: [Stage: Double] = [:]
        for (key, value) in object { if let stage = Stage(rawValue: key) { times[stage] = value } }
        return times
    }
}
