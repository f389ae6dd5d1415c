import FarmCore
import Foundation

/// Where the values of a row of `boots` go, parameter 1 first: a statement's parameters, or a
/// batch of packed rows.
protocol BootRowSink {
    mutating func bind(_ index: Int32, _ value: String?)
    mutating func bind(_ index: Int32, _ value: Int?)
    mutating func bind(_ index: Int32, _ value: Double?)
}

extension SQLiteStatement: BootRowSink {}

/// Maps `BootRecord` to and from a row of `boots`.
enum BootRow {
    static let columns = """
        id, lab, board, board_type, arch, defconfig, compiler, tree, branch, "commit", describe, commit_time, \
        started_at, finished_at, status, stage, reason, boot_time_s, warnings, kernel_image_size, energy_j, \
        avg_power_w, peak_power_w, stage_times
        """

    /// How many columns `columns` names (`read` takes them from index 0).
    static let columnCount = columns.split(separator: ",").count

    /// Inserts, or updates every column of the record with the same id (no delete, so its log stays).
    static let upsertSQL: String = {
        let names = columns.split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let updates = names.dropFirst().map { "\($0) = excluded.\($0)" }.joined(separator: ", ")
        return "INSERT INTO boots (\(columns)) VALUES (\(Array(repeating: "?", count: names.count).joined(separator: ", "))) "
            + "ON CONFLICT (id) DO UPDATE SET \(updates)"
    }()

    static let insertRevisionSQL = """
        INSERT INTO revisions (tree, branch, describe, "commit", commit_time, first_seen) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (tree, branch, describe) DO UPDATE SET
            "commit" = CASE WHEN revisions."commit" = '' THEN excluded."commit" ELSE revisions."commit" END,
            commit_time = coalesce(revisions.commit_time, excluded.commit_time),
            first_seen = min(revisions.first_seen, excluded.first_seen)
        """

    static func bindRevision(_ record: BootRecord, to statement: SQLiteStatement) {
        bindRevision(record.revision, firstSeen: record.startedAt, to: statement)
    }

    static func bindRevision(_ revision: Revision, firstSeen: String, to statement: SQLiteStatement) {
        statement.bind(1, revision.tree)
        statement.bind(2, revision.branch)
        statement.bind(3, revision.describe)
        statement.bind(4, revision.commit)
        statement.bind(5, revision.commitTime)
        statement.bind(6, firstSeen)
    }

    static func bind(_ record: BootRecord, to statement: SQLiteStatement) {
        var statement = statement
        bind(record, to: &statement)
    }

    /// Gives the record's values to `statement`, parameter 1 first, in `columns` order.
    static func bind<Sink: BootRowSink>(_ record: BootRecord, to statement: inout Sink) {
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
        let fields = Stage.allCases.compactMap { stage in times[stage].map { "\"\(stage.rawValue)\":\($0)" } }
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func decodeStageTimes(_ text: String) -> [Stage: Double] {
        guard text != "{}", case .object(let members)? = try? JSONParser.parse(Array(text.utf8)) else { return [:] }
        var times: [Stage: Double] = [:]
        for (key, value) in members {
            if let stage = Stage(rawValue: key), case .number(let number) = value, let seconds = Double(number) { times[stage] = seconds }
        }
        return times
    }
}
