import FarmCore
import Foundation
import Testing

@testable import FarmStore

/// A bulk import reads the common line where it stands (`scanImport`) and any other through the
/// JSON parser (`decodeImport`): both must store the same row, and the first must take no line
/// the second refuses.
@Suite("record lines read in place or parsed: the same rows")
struct ImportScanTests {
    static let clean =
        #"{"id":"b00000001","lab":"lab-1","board":"board-1","board_type":"type-1","arch":"arm","defconfig":"multi_v7_defconfig","#
        + #""compiler":"gcc-12","tree":"mainline","branch":"master","commit":"0000000000000000000000000000000000009e37","#
        + #""describe":"v6.0-rc1-1-g9e3779b","commit_time":"2026-01-02T12:00:00Z","started_at":"2026-01-02T12:00:00Z","#
        + #""status":"pass","stage":"prompt","reason":"","boot_time_s":7.926,"warnings":0,"kernel_image_size":20001000,"#
        + #""energy_j":16.441,"avg_power_w":2.1,"peak_power_w":3.4}"#

    /// `clean` with `field` replaced by `json` (a JSON value), or removed when `json` is nil.
    static func clean(_ field: String, _ json: String?) -> String { with(clean, field, json) }

    /// `line` with `field` replaced by `json` (a JSON value) or added, or removed when `json` is nil.
    static func with(_ line: String, _ field: String, _ json: String?) -> String {
        let pattern = try? NSRegularExpression(pattern: "\"\(field)\":(\"[^\"]*\"|[^,}]*)")
        let range = NSRange(line.startIndex..., in: line)
        guard let match = pattern?.firstMatch(in: line, range: range), let found = Range(match.range, in: line) else {
            return line.replacingOccurrences(of: "}", with: ",\"\(field)\":\(json ?? "null")}")
        }
        guard let json else {
            var line = line
            line.removeSubrange(found)
            return line.replacingOccurrences(of: ",,", with: ",").replacingOccurrences(of: "{,", with: "{")
        }
        return line.replacingCharacters(in: found, with: "\"\(field)\":\(json)")
    }

    /// Lines read in place: (what the line is, the line).
    static let scanned: [(String, String)] = [
        ("every field", clean),
        (
            "only what is required",
            #"{"id":"x","lab":"l","board":"b","board_type":"t","tree":"tr","branch":"br","describe":"d","#
                + #""started_at":"2026-01-02T12:00:00Z","status":"fail"}"#
        ),
        ("a commit and no describe", clean("describe", nil)),
        ("an empty describe", clean("describe", #""""#)),
        ("a null describe", clean("describe", "null")),
        ("no stage on a failure", clean("stage", nil).replacingOccurrences(of: #""pass""#, with: #""error""#)),
        ("a null stage", clean("stage", "null")),
        ("a stage on a failure", clean("stage", #""kernel""#).replacingOccurrences(of: #""pass""#, with: #""fail""#)),
        ("null numbers and times", with(clean("boot_time_s", "null"), "commit_time", "null")),
        ("a null arch", clean("arch", "null")),
        ("a finish time", clean("finished_at", #""2026-01-02T12:01:00Z""#)),
        ("numbers with exponents, fractions and a negative zero", clean("energy_j", "1.5e2").replacingOccurrences(of: "2.1", with: "-0")),
        ("a whole number written with a fraction", clean("warnings", "3.0")),
        (
            "spaces and tabs between tokens",
            " {\t" + clean.dropFirst().replacingOccurrences(of: ",\"", with: " ,\t\"").replacingOccurrences(of: "\":", with: "\" : ") + " "
        ),
        ("null stage times", clean("stage_times", "null")),
        ("an id of 200 characters", clean("id", "\"" + String(repeating: "i", count: 200) + "\"")),
        ("a canceled boot", clean("status", #""canceled""#)),
        ("a null log", clean("log", "null")),
    ]

    /// Lines left to the parser, which stores or refuses them: (what the line is, the line).
    static let parsed: [(String, String)] = [
        ("a time with an offset", clean("started_at", #""2026-01-02T14:00:00+02:00""#)),
        ("a time with milliseconds", clean("started_at", #""2026-01-02T12:00:00.500Z""#)),
        ("no id", clean("id", nil)),
        ("a null id", clean("id", "null")),
        ("an escaped quote", clean("reason", #""a \"quoted\" word""#)),
        ("an escaped name", clean.replacingOccurrences(of: #""reason""#, with: #""reas\u006fn""#)),
        ("text that is not ASCII", clean("reason", #""Übergabe fehlgeschlagen""#)),
        ("a leading zero", clean("warnings", "01")),
        ("a log", clean("log", #""Booting Linux\n""#)),
        ("stage times", clean("stage_times", #"{"kernel":1.5}"#)),
        ("a boolean for a string", clean("arch", "true")),
        ("a negative boot time", clean("boot_time_s", "-1")),
        ("a warning count with a fraction", clean("warnings", "1.5")),
        ("a size too large", clean("kernel_image_size", "1e19")),
        ("an infinite energy", clean("energy_j", "1e400")),
        ("an unknown status", clean("status", #""passed""#)),
        ("an unknown stage", clean("stage", #""boot""#)),
        ("an empty stage", clean("stage", #""""#)),
        ("an empty lab", clean("lab", #""""#)),
        ("no lab", clean("lab", nil)),
        ("a number for a lab", clean("lab", "7")),
        ("an empty id", clean("id", #""""#)),
        ("an id of 201 characters", clean("id", "\"" + String(repeating: "i", count: 201) + "\"")),
        ("no describe and no commit", with(clean("describe", nil), "commit", nil)),
        ("an empty commit time", clean("commit_time", #""""#)),
        ("an unknown field", clean("colour", #""blue""#)),
        ("a field twice", clean.replacingOccurrences(of: "}", with: #","lab":"lab-2"}"#)),
        ("text after the object", clean + " x"),
        ("a cut line", String(clean.dropLast(5))),
        ("an array", "[1,2]"),
        ("an empty object", "{}"),
        ("a number with no digits after its point", clean("energy_j", "1.")),
    ]

    /// The cells `rows` packed, written out (reals by their bits, so -0 and 0 differ).
    static func cells(_ rows: PackedBootRows) -> [String] {
        rows.cells.map { cell in
            switch cell {
            case .null: return "null"
            case .text(let offset, let length): return "text " + String(decoding: rows.text[offset..<offset + length], as: UTF8.self)
            case .integer(let value): return "integer \(value)"
            case .real(let value): return "real \(value.bitPattern)"
            }
        }
    }

    /// The row the parser stores for `line` (nil when it refuses it) and the row read in place
    /// (nil when the line is left to the parser).
    static func rows(_ line: String) -> (parsed: [String]?, scanned: [String]?) {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer { mutable in
            let buffer = UnsafeBufferPointer(mutable)
            var parsed: [String]?
            if let imported = try? BootRecord.decodeImport(bytes: buffer, line: 1) {
                var rows = PackedBootRows()
                rows.append(imported.record)
                parsed = cells(rows)
            }
            var scanned: [String]?
            if let row = BootRecord.scanImport(bytes: buffer) {
                var rows = PackedBootRows()
                rows.append(row, in: buffer)
                scanned = cells(rows)
            }
            return (parsed, scanned)
        }
    }

    @Test("a common line read in place packs the row the parser packs", arguments: scanned)
    func scannedLinesMatchTheParser(_ what: String, _ line: String) throws {
        let (parsed, scanned) = Self.rows(line)
        let expected = try #require(parsed, "the parser refuses \(what): \(line)")
        let row = try #require(scanned, "\(what) is left to the parser: \(line)")
        #expect(row == expected, "\(what)")
        #expect(row.count == BootRow.columnCount)
    }

    @Test("any other line is left to the parser, which stores it or says what is wrong", arguments: parsed)
    func otherLinesAreLeftToTheParser(_ what: String, _ line: String) {
        #expect(Self.rows(line).scanned == nil, "\(what) was read in place: \(line)")
    }

    @Test("the lines the parser stores of those left to it are stored, the others refused")
    func parserOutcomesOfTheLinesLeftToIt() {
        let stored = Set(Self.parsed.filter { Self.rows($0.1).parsed != nil }.map(\.0))
        #expect(
            stored == [
                "a time with an offset", "a time with milliseconds", "no id", "a null id", "an escaped quote", "an escaped name",
                "text that is not ASCII", "a leading zero", "a log", "stage times",
            ])
    }
}
