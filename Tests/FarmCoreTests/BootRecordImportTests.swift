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

    @Test func aPowerTraceAndTestsSurviveExportAndImport() throws {
        let record = try decode(Self.minimal).record
        let trace = try PowerTrace([
            PowerSample(timeNanoseconds: 0, powerMicrowatts: 1_500_000),
            PowerSample(timeNanoseconds: 10_000_000, powerMicrowatts: 2_250_000, voltageMicrovolts: 5_000_000, currentMicroamps: 450_000),
        ])
        let power = BootPower(trace: trace, stageEnergyJoules: [.kernel: 1.25], lostSamples: 3, warnings: ["meter \"slow\""])
        let tests = [
            TestCase(name: "uname", result: .pass, output: "Linux\n"),
            TestCase(name: "boot-time", result: .skip, measurement: 2.5, units: "s"),
        ]
        let line = record.jsonLine(log: nil, power: power, tests: tests)
        let decoded = try decode(line)
        #expect(decoded.power == power)
        #expect(decoded.tests == tests)
        #expect(decoded.record == record)
    }

    @Test func badPowerAndTestEntriesNameTheirField() {
        let outOfOrder = Self.minimal.replacingOccurrences(of: "}", with: #","power":{"samples":[[20,1],[10,1]]}}"#)
        #expect { try decode(outOfOrder) } throws: { ($0 as? ImportError)?.field == "power.samples[1]" }
        let badSample = Self.minimal.replacingOccurrences(of: "}", with: #","power":{"samples":[[0]]}}"#)
        #expect { try decode(badSample) } throws: { ($0 as? ImportError)?.field == "power.samples[0]" }
        let badResult = Self.minimal.replacingOccurrences(of: "}", with: #","tests":[{"name":"x","result":"ok"}]}"#)
        #expect { try decode(badResult) } throws: { ($0 as? ImportError)?.field == "tests[0].result" }
        let noName = Self.minimal.replacingOccurrences(of: "}", with: #","tests":[{"result":"pass"}]}"#)
        #expect { try decode(noName) } throws: { ($0 as? ImportError)?.field == "tests[0].name" }
        let unknown = Self.minimal.replacingOccurrences(of: "}", with: #","power":{"trace":[]}}"#)
        #expect { try decode(unknown) } throws: { ($0 as? ImportError)?.field == "power.trace" }
    }

    @Test func stringsWithQuotesControlBytesAndNonASCIISurviveExportAndImport() throws {
        var record = try decode(Self.minimal).record
        record.reason = "panic \"x\" at c:\\path\n\ttab \u{01}\u{7F} café ✓"
        let line = record.jsonLine()
        #expect(!line.contains("\n"), "a JSON line holds no raw newline")
        #expect(line.contains(#"\u0001\u007f"#))
        #expect(try decode(line).record.reason == record.reason)
    }

    /// Lines the byte-level path takes and lines it hands to the ordinary parser decode alike,
    /// and every bad line gets the ordinary parser's error.
    @Test(arguments: [
        minimal,
        minimal.replacingOccurrences(of: "}", with: #","stage_times":{"kernel":1.5},"tests":[{"name":"t","result":"pass"}]}"#),
        minimal.replacingOccurrences(of: #""lab":"l""#, with: #""l\u0061b":"l""#),
        " \t" + minimal + "  ",
        minimal.replacingOccurrences(of: "}", with: #","reason":"a \"quoted\" é"}"#),
        minimal.replacingOccurrences(of: "}", with: #","colour":"red"}"#),
        minimal.replacingOccurrences(of: "}", with: #","colour":"red","#),
        minimal.replacingOccurrences(of: "}", with: #","lab":"again"}"#),
        minimal.replacingOccurrences(of: "}", with: #","boot_time_s":01}"#),
        minimal + "x",
        "[1, 2]",
        "{}",
    ])
    func bytesAndParsedValuesDecodeAlike(_ json: String) {
        let bytes = Array(json.utf8)
        let direct = Result { () throws(ImportError) in
            try bytes.withUnsafeBufferPointer { buffer throws(ImportError) in try BootRecord.decodeImport(bytes: buffer, line: 7) }
        }
        let parsed = Result { () throws(ImportError) in
            let value: JSONValue
            do {
                value = try JSONParser.parse(bytes)
            } catch {
                throw ImportError(line: 7, field: "", message: "not valid JSON: \(error)")
            }
            return try BootRecord.decodeImport(value, line: 7)
        }
        switch (direct, parsed) {
        case (.success(let direct), .success(let parsed)):
            #expect(direct.record == parsed.record)
            #expect(direct.tests == parsed.tests)
            #expect(direct.record.stageTimes == parsed.record.stageTimes)
        case (.failure(let direct), .failure(let parsed)):
            #expect(direct == parsed)
        default:
            Issue.record("decoded differently: \(direct) and \(parsed)")
        }
    }
}
