import Testing

@testable import FarmCore

@Suite("Importing boot records")
struct BootRecordImportTests {
    func decode(_ json: String, line: Int = 1) throws -> ImportedBoot {
        try BootRecord.decodeImport(try JSONParser.parse(Array(json.utf8)), line: line)
    }

    static let minimal =
        #"{"lab":"l","board":"b","board_type":"t","tree":"mainline","branch":"master","describe":"v6.9","started_at":"2026-01-02T03:04:05Z","status":"pass"}"#

    @Test func everyImportFieldHasItsOwnSlot() {
        for (index, field) in BootRecord.importFieldOrder.enumerated() {
            #expect(BootRecord.importFieldIndex(field) == index, "\(field)")
        }
        #expect(BootRecord.importFieldIndex("colour") == nil)
    }

    @Test func aRecordWithoutIDGetsTheSameDerivedIDEveryTime() throws {
        let first = try decode(Self.minimal)
        let second = try decode(Self.minimal)
        #expect(first.record.id == second.record.id)
        #expect(first.record.id.hasPrefix("boot-"))
        let other = try decode(Self.minimal.replacingOccurrences(of: "\"board\":\"b\"", with: "\"board\":\"c\""))
        #expect(other.record.id != first.record.id)
    }

    @Test func timestampsAreNormalisedToUTC() throws {
        let shifted = try decode(Self.minimal.replacingOccurrences(of: "2026-01-02T03:04:05Z", with: "2026-01-02T05:04:05+02:00"))
        #expect(shifted.record.startedAt == "2026-01-02T03:04:05Z")
        #expect(ISOTimestamp.isCanonical("2026-01-02T03:04:05Z"))
        #expect(!ISOTimestamp.isCanonical("2026-13-02T03:04:05Z"))
        #expect(!ISOTimestamp.isCanonical("2026-01-02 03:04:05"))
    }

    @Test func anUnknownFieldNamesItselfAndTheLine() {
        let json = Self.minimal.replacingOccurrences(of: "}", with: #","colour":"red"}"#)
        #expect(
            throws: ImportError(
                line: 7, field: "colour",
                message: "unknown field; expected one of: \(BootRecord.importFields.sorted().joined(separator: ", "))")
        ) {
            try decode(json, line: 7)
        }
    }

    @Test func aBadStatusIsRejectedWithTheField() throws {
        do {
            _ = try decode(Self.minimal.replacingOccurrences(of: "\"pass\"", with: "\"ok\""), line: 3)
            Issue.record("a bad status was accepted")
        } catch let error as ImportError {
            #expect(error.line == 3)
            #expect(error.field == "status")
        }
    }
}
