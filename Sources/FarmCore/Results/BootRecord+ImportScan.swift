/// A boot record line read where it stands: the byte ranges of its text fields in the line and
/// its numbers, with every rule `decodeImport` applies already checked. Bulk imports store it
/// without making a string of it.
public struct ImportedRow: Sendable, Equatable {
    public var id: Range<Int>
    public var lab: Range<Int>
    public var board: Range<Int>
    public var boardType: Range<Int>
    public var arch: Range<Int>
    public var defconfig: Range<Int>
    public var compiler: Range<Int>
    public var tree: Range<Int>
    public var branch: Range<Int>
    public var commit: Range<Int>
    /// The describe, or the commit when the line has no describe (as `Revision.describe`).
    public var describe: Range<Int>
    public var commitTime: Range<Int>?
    public var startedAt: Range<Int>
    public var finishedAt: Range<Int>?
    public var status: BootStatus
    public var stage: Stage
    public var reason: Range<Int>
    public var bootTimeSeconds: Double?
    public var warnings: Int
    public var kernelImageSizeBytes: Int?
    public var energyJoules: Double?
    public var averagePowerWatts: Double?
    public var peakPowerWatts: Double?
}

extension BootRecord {
    /// Reads a record line without making strings of it, when the line is the common case: one
    /// object of known fields, each once, whose values are null, numbers or strings of printable
    /// ASCII without escapes; with an `id`, canonical UTC times, no `log`, `stage_times`,
    /// `power` or `tests` (a null log or null stage times are none), and values `decodeImport`
    /// accepts. Any other line gives nil, and is
    /// then decoded (or refused, with its error) by `decodeImport(bytes:line:)`, so the two
    /// agree on everything this one accepts.
    public static func scanImport(bytes: UnsafeBufferPointer<UInt8>) -> ImportedRow? {
        withUnsafeTemporaryAllocation(of: ScannedValue.self, capacity: importFieldOrder.count) { values in
            guard let base = values.baseAddress else { return nil }
            base.initialize(repeating: .absent, count: importFieldOrder.count)
            var scanner = LineScanner(bytes: bytes)
            guard scanner.scanObject(into: values, table: importFieldTable) else { return nil }
            return decodeScanned(values, in: bytes)
        }
    }

    /// Applies `decodeImport`'s rules to scanned values; nil where it would refuse the line or
    /// needs what this form does not carry.
    private static func decodeScanned(_ values: UnsafeMutableBufferPointer<ScannedValue>, in bytes: UnsafeBufferPointer<UInt8>)
        -> ImportedRow?
    {
        let slot = importSlots
        let empty = 0..<0
        /// A string field: nil when it is not a string (or absent or null where it is required).
        func text(_ index: Int, required: Bool = false) -> Range<Int>? {
            switch values[index] {
            case .string(let range): return required && range.isEmpty ? nil : range
            case .absent, .null: return required ? nil : empty
            case .number: return nil
            }
        }
        /// An optional number field: .some(nil) when absent or null.
        func number(_ index: Int) -> Double?? {
            switch values[index] {
            case .number(let range):
                guard let value = Double(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)),
                    value.isFinite, value >= 0
                else { return nil }
                return .some(value)
            case .absent, .null: return .some(nil)
            case .string: return nil
            }
        }
        func integer(_ index: Int) -> Int?? {
            guard let value = number(index) else { return nil }
            guard let value else { return .some(nil) }
            guard value == value.rounded(), value < 9e18 else { return nil }
            return .some(Int(value))
        }
        /// An optional time: .some(nil) when absent or null; nil unless canonical.
        func time(_ index: Int) -> Range<Int>?? {
            switch values[index] {
            case .string(let range):
                return ISOTimestamp.isCanonical(bytes: UnsafeBufferPointer(rebasing: bytes[range])) ? .some(range) : nil
            case .absent, .null: return .some(nil)
            case .number: return nil
            }
        }
        func matches(_ range: Range<Int>, _ word: String) -> Bool {
            word.utf8.elementsEqual(UnsafeBufferPointer(rebasing: bytes[range]))
        }

        func isAbsent(_ index: Int, orNull: Bool = false) -> Bool {
            switch values[index] {
            case .absent: return true
            case .null: return orNull
            case .string, .number: return false
            }
        }

        // What this form does not carry goes the ordinary way (a null log or null stage times
        // are none).
        guard isAbsent(slot.log, orNull: true), isAbsent(slot.stageTimes, orNull: true), isAbsent(slot.power),
            isAbsent(slot.tests)
        else { return nil }
        guard let statusText = text(slot.status, required: true),
            let status = BootStatus.allCases.first(where: { matches(statusText, $0.rawValue) }),
            let stageText = text(slot.stage)
        else { return nil }
        var stage: Stage = status == .pass ? .prompt : .power
        if case .string = values[slot.stage] {
            guard let named = Stage.allCases.first(where: { matches(stageText, $0.rawValue) }) else { return nil }
            stage = named
        }
        // Without an id, the record gets one derived from its fields: the ordinary way.
        guard case .string(let id) = values[slot.id], !id.isEmpty, id.count <= 200,
            let tree = text(slot.tree, required: true), let describe = text(slot.describe), let commit = text(slot.commit),
            !(describe.isEmpty && commit.isEmpty),
            let lab = text(slot.lab, required: true), let board = text(slot.board, required: true),
            let branch = text(slot.branch, required: true), let boardType = text(slot.boardType, required: true),
            case .string(let startedAt) = values[slot.startedAt],
            ISOTimestamp.isCanonical(bytes: UnsafeBufferPointer(rebasing: bytes[startedAt])),
            let commitTime = time(slot.commitTime), let finishedAt = time(slot.finishedAt),
            let arch = text(slot.arch), let defconfig = text(slot.defconfig), let compiler = text(slot.compiler),
            let reason = text(slot.reason),
            let kernelImageSize = integer(slot.kernelImageSize), let warnings = integer(slot.warnings),
            let bootTime = number(slot.bootTime), let energy = number(slot.energy),
            let averagePower = number(slot.averagePower), let peakPower = number(slot.peakPower)
        else { return nil }
        return ImportedRow(
            id: id, lab: lab, board: board, boardType: boardType, arch: arch, defconfig: defconfig, compiler: compiler,
            tree: tree, branch: branch, commit: commit, describe: describe.isEmpty ? commit : describe,
            commitTime: commitTime, startedAt: startedAt, finishedAt: finishedAt, status: status, stage: stage,
            reason: reason, bootTimeSeconds: bootTime, warnings: warnings ?? 0, kernelImageSizeBytes: kernelImageSize,
            energyJoules: energy, averagePowerWatts: averagePower, peakPowerWatts: peakPower)
    }
}

/// A field's value as a line holds it.
enum ScannedValue {
    case absent
    case null
    /// The bytes between the quotes: printable ASCII, no escapes.
    case string(Range<Int>)
    /// The number's text, valid JSON number syntax.
    case number(Range<Int>)
}

/// Scans one JSON object of import fields whose values are null, numbers or plain strings;
/// anything else stops it.
private struct LineScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func skipSpace() {
        while let byte = current, byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    private mutating func take(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    /// The bytes of a string without escapes, control bytes or non-ASCII, past its quotes.
    private mutating func plainString() -> Range<Int>? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = index
        while let byte = current {
            if byte == UInt8(ascii: "\"") {
                index += 1
                return start..<index - 1
            }
            guard byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") else { return nil }
            index += 1
        }
        return nil
    }

    /// A number in JSON's syntax: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    private mutating func number() -> Range<Int>? {
        let start = index
        _ = take(UInt8(ascii: "-"))
        func isDigit(_ byte: UInt8?) -> Bool { byte.map { $0 >= 0x30 && $0 <= 0x39 } ?? false }
        guard isDigit(current) else { return nil }
        if !take(UInt8(ascii: "0")) { while isDigit(current) { index += 1 } }
        if take(UInt8(ascii: ".")) {
            guard isDigit(current) else { return nil }
            while isDigit(current) { index += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            index += 1
            if !take(UInt8(ascii: "+")) { _ = take(UInt8(ascii: "-")) }
            guard isDigit(current) else { return nil }
            while isDigit(current) { index += 1 }
        }
        return start..<index
    }

    private mutating func value() -> ScannedValue? {
        guard let current else { return nil }
        switch current {
        case UInt8(ascii: "\""): return plainString().map { .string($0) }
        case UInt8(ascii: "n"):
            guard index + 4 <= bytes.count, bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == UInt8(ascii: "l"),
                bytes[index + 3] == UInt8(ascii: "l")
            else { return nil }
            index += 4
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number().map { .number($0) }
        default: return nil
        }
    }

    /// Fills `values` by field slot; false when the line is not such an object.
    mutating func scanObject(into values: UnsafeMutableBufferPointer<ScannedValue>, table: BootRecord.ImportFieldTable) -> Bool {
        skipSpace()
        guard take(UInt8(ascii: "{")) else { return false }
        skipSpace()
        if !take(UInt8(ascii: "}")) {
            while true {
                skipSpace()
                guard let name = plainString(), let slot = table.slot(of: UnsafeBufferPointer(rebasing: bytes[name])),
                    case .absent = values[slot]
                else { return false }
                skipSpace()
                guard take(UInt8(ascii: ":")) else { return false }
                skipSpace()
                guard let value = value() else { return false }
                values[slot] = value
                skipSpace()
                if take(UInt8(ascii: "}")) { break }
                guard take(UInt8(ascii: ",")) else { return false }
            }
        }
        skipSpace()
        return index == bytes.count
    }
}
