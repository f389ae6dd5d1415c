import FarmCore

/// Boot records as a KCIDB I/O document (schema v5.3, the newest `kcidb-io` release knows), ready
/// to submit with `kcidb-submit`.
///
/// - Checkouts: one per tree, branch and commit (the describe when the commit is unknown).
///   `git_commit_name` is the describe, `start_time` the first boot of it in the export (KCIDB
///   orders checkouts by it; bootfarm never sees the checkout itself), `valid` is true because a
///   kernel was built from it. A commit that is not a full 40-digit hash goes to `misc.commit`
///   instead of `git_commit_hash`; the commit time goes to `misc.commit_time`.
/// - Builds: one per checkout, arch, defconfig and compiler, with `status` `PASS` (the build made
///   the kernel image that was booted). The schema has no field for the image size, so it goes to
///   `misc.kernel_image_size` (bytes). An arch outside `[a-z0-9_]` is lowered and folded to `_`,
///   the original kept in `misc.arch`.
/// - Tests: each boot is a test with path `boot`: `pass` → `PASS`, `fail` → `FAIL`, `error`
///   (infrastructure) → `MISS` (the harness failed, nothing is known about the kernel), `canceled`
///   → `SKIP` (did not complete, nothing is known, and as the lowest priority it never raises a
///   summary status). The boot time is its `number` in `s`; the reason is its `comment`; board,
///   board type and lab are in `environment` (`comment` and `misc`); the bootfarm status, stage,
///   warnings, stage times and end time are in `misc`. Energy (`J`), mean and peak power (`W`), when
///   measured, are tests `boot.energy`, `boot.power.avg` and `boot.power.peak` with status `DONE`
///   (a measurement, not a verdict).
/// - IDs are `origin:` followed by a hash of the checkout or build key, or by the record id and
///   the test path, so exporting the same records again gives the same ids.
public enum KCIDBExport {
    /// Major version of the KCIDB I/O schema the documents declare.
    public static let schemaMajor = 5
    /// Minor version of the KCIDB I/O schema the documents declare.
    public static let schemaMinor = 3

    /// A KCIDB v5 I/O document for these boots (checkouts, builds, tests).
    ///
    /// `origin` names the submitting CI system; KCIDB allows only `[a-z0-9_]`, so other characters
    /// become `_` and letters are lowered (see `originName(_:)`). Objects appear in the order their
    /// first record does.
    public static func document(_ records: [BootRecord], origin: String) -> [String: Any] {
        let origin = originName(origin)
        var checkouts: [[String: Any]] = []
        var checkoutPositions: [String: Int] = [:]
        var checkoutStarts: [Double?] = []
        var builds: [[String: Any]] = []
        var buildPositions: [String: Int] = [:]
        var tests: [[String: Any]] = []

        for record in records {
            let checkoutKey = checkoutKeyFields(record)
            let checkoutID = "\(origin):checkout-\(stableHash(checkoutKey))"
            let start = ISOTimestamp.epochSeconds(record.startedAt)
            if let position = checkoutPositions[checkoutID] {
                // The earliest boot stands for the checkout's start, whatever the record order.
                if let start, checkoutStarts[position].map({ start < $0 }) ?? true {
                    checkoutStarts[position] = start
                    checkouts[position]["start_time"] = ISOTimestamp.format(start)
                }
            } else {
                checkoutPositions[checkoutID] = checkouts.count
                checkoutStarts.append(start)
                checkouts.append(checkout(record, id: checkoutID, origin: origin))
            }

            let buildID = "\(origin):build-\(stableHash(checkoutKey + [record.build.arch, record.build.defconfig, record.build.compiler]))"
            if let position = buildPositions[buildID] {
                // Any record of the build may be the one that knows the image size.
                var misc = builds[position]["misc"] as? [String: Any] ?? [:]
                if misc["kernel_image_size"] == nil, let size = record.build.kernelImageSizeBytes {
                    misc["kernel_image_size"] = size
                    builds[position]["misc"] = misc
                }
            } else {
                buildPositions[buildID] = builds.count
                builds.append(build(record, id: buildID, checkoutID: checkoutID, origin: origin))
            }

            tests += bootTests(record, buildID: buildID, origin: origin)
        }

        return [
            "version": ["major": schemaMajor, "minor": schemaMinor],
            "checkouts": checkouts,
            "builds": builds,
            "tests": tests,
        ]
    }

    /// `origin` as KCIDB accepts it: lower-case ASCII letters, digits and `_`; any other character
    /// becomes `_`. An empty name becomes `bootfarm`.
    public static func originName(_ origin: String) -> String {
        let name = folded(origin)
        return name.isEmpty ? "bootfarm" : name
    }

    /// The KCIDB status of a boot (see the type's documentation for why).
    public static func status(_ status: BootStatus) -> String {
        switch status {
        case .pass: "PASS"
        case .fail: "FAIL"
        case .error: "MISS"
        case .canceled: "SKIP"
        }
    }

    // MARK: - Objects

    static func checkout(_ record: BootRecord, id: String, origin: String) -> [String: Any] {
        let revision = record.revision
        var object: [String: Any] = ["id": id, "origin": origin, "valid": true]
        var misc: [String: Any] = [:]
        if !revision.tree.isEmpty { object["tree_name"] = clean(revision.tree) }
        if !revision.branch.isEmpty { object["git_repository_branch"] = clean(revision.branch) }
        if !revision.describe.isEmpty { object["git_commit_name"] = clean(revision.describe) }
        let commit = revision.commit.lowercased()
        if isFullCommitHash(commit) {
            object["git_commit_hash"] = commit
        } else if !revision.commit.isEmpty {
            misc["commit"] = clean(revision.commit)
        }
        if let commitTime = revision.commitTime.flatMap(ISOTimestamp.normalize) { misc["commit_time"] = commitTime }
        object["start_time"] = ISOTimestamp.normalize(record.startedAt)
        if !misc.isEmpty { object["misc"] = misc }
        return object
    }

    static func build(_ record: BootRecord, id: String, checkoutID: String, origin: String) -> [String: Any] {
        let build = record.build
        var object: [String: Any] = ["id": id, "origin": origin, "checkout_id": checkoutID, "status": "PASS"]
        var misc: [String: Any] = [:]
        if !build.arch.isEmpty {
            let architecture = folded(build.arch)
            object["architecture"] = architecture
            if architecture != build.arch { misc["arch"] = clean(build.arch) }
        }
        if !build.defconfig.isEmpty { object["config_name"] = clean(build.defconfig) }
        if !build.compiler.isEmpty { object["compiler"] = clean(build.compiler) }
        misc["kernel_image_size"] = build.kernelImageSizeBytes
        if !misc.isEmpty { object["misc"] = misc }
        return object
    }

    /// The `boot` test of a record, then one test per measurement it carries.
    static func bootTests(_ record: BootRecord, buildID: String, origin: String) -> [[String: Any]] {
        let recordID = clean(record.id)
        var shared: [String: Any] = ["origin": origin, "build_id": buildID, "environment": environment(record)]
        let started = ISOTimestamp.epochSeconds(record.startedAt)
        if let started { shared["start_time"] = ISOTimestamp.format(started) }
        if let started, let finished = record.finishedAt.flatMap(ISOTimestamp.epochSeconds), finished >= started {
            shared["duration"] = finished - started
        }

        var boot = shared
        boot["id"] = "\(origin):\(recordID):boot"
        boot["path"] = "boot"
        boot["status"] = status(record.status)
        if !record.reason.isEmpty { boot["comment"] = clean(record.reason) }
        boot["number"] = number(record.bootTimeSeconds, unit: "s")
        var misc: [String: Any] = [
            "record_id": recordID, "status": record.status.rawValue, "stage": record.stage.rawValue,
            "warnings": record.warnings,
        ]
        let stageTimes = record.stageTimes.filter { $0.value.isFinite }
        if !stageTimes.isEmpty {
            misc["stage_times"] = Dictionary(uniqueKeysWithValues: stageTimes.map { ($0.key.rawValue, $0.value) })
        }
        misc["finished_at"] = record.finishedAt.flatMap(ISOTimestamp.normalize)
        boot["misc"] = misc

        var tests = [boot]
        let measurements: [(path: String, value: Double?, unit: String)] = [
            ("boot.energy", record.energyJoules, "J"),
            ("boot.power.avg", record.averagePowerWatts, "W"),
            ("boot.power.peak", record.peakPowerWatts, "W"),
        ]
        for measurement in measurements {
            guard let number = number(measurement.value, unit: measurement.unit) else { continue }
            var test = shared
            test["id"] = "\(origin):\(recordID):\(measurement.path)"
            test["path"] = measurement.path
            test["status"] = "DONE"
            test["number"] = number
            test["misc"] = ["record_id": recordID]
            tests.append(test)
        }
        return tests
    }

    static func environment(_ record: BootRecord) -> [String: Any] {
        [
            "comment": clean("board \(record.board) (\(record.boardType)) in lab \(record.lab)"),
            "misc": ["lab": clean(record.lab), "board": clean(record.board), "board_type": clean(record.boardType)],
        ]
    }

    /// A KCIDB `number`, or nil for a missing or non-finite value (JSON has no NaN).
    static func number(_ value: Double?, unit: String) -> [String: Any]? {
        guard let value, value.isFinite else { return nil }
        return ["value": value, "unit": unit]
    }

    // MARK: - Keys and text

    static func checkoutKeyFields(_ record: BootRecord) -> [String] {
        let revision = record.revision
        return [revision.tree, revision.branch, revision.commit.isEmpty ? revision.describe : revision.commit.lowercased()]
    }

    /// FNV-1a (64-bit) over the fields separated by NUL, as 16 hex digits: the same on every run
    /// and platform, unlike `Hasher`.
    static func stableHash(_ fields: [String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in fields.map(clean).joined(separator: "\u{0}").utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    static func isFullCommitHash(_ text: String) -> Bool {
        text.utf8.count == 40 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    /// Lower-case ASCII letters, digits and `_`, everything else folded to `_`.
    static func folded(_ text: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar {
            case "a"..."z", "0"..."9", "_": scalars.append(scalar)
            case "A"..."Z": scalars.append(Unicode.Scalar(UInt8(scalar.value + 0x20)))
            default: scalars.append("_")
            }
        }
        return String(scalars)
    }

    /// `text` without NUL characters, which no KCIDB string may hold.
    static func clean(_ text: String) -> String {
        text.unicodeScalars.contains("\u{0}") ? String(String.UnicodeScalarView(text.unicodeScalars.filter { $0 != "\u{0}" })) : text
    }
}
