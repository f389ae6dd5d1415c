/// A test case a test script reported with a LAVA signal line:
/// `<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=name RESULT=pass|fail|skip|unknown [MEASUREMENT=1.25 UNITS=ms]>`.
///
/// Values may be quoted with `"` or `'` (and then hold spaces or `>`). Keys other than these four
/// are ignored. A `RESULT` of `unknown` becomes `skip`.
public struct LAVASignal: Sendable, Equatable {
    /// The case's name (`TEST_CASE_ID`).
    public var testCaseID: String
    /// The case's result (`RESULT`).
    public var result: TestResult
    /// A measured value (`MEASUREMENT`), if the line has a number there.
    public var measurement: Double?
    /// The unit of the measurement (`UNITS`), if given.
    public var units: String?

    /// The text that opens a test case signal.
    static let opening = Array("<LAVA_SIGNAL_TESTCASE".utf8)

    /// Creates a signal.
    public init(testCaseID: String, result: TestResult, measurement: Double? = nil, units: String? = nil) {
        self.testCaseID = testCaseID
        self.result = result
        self.measurement = measurement
        self.units = units
    }

    /// Parses the first test case signal in `text`; nil when there is none, or when it lacks a
    /// `TEST_CASE_ID`, a known `RESULT` or its closing `>`.
    public init?(parsing text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while let start = bytes.firstOffset(of: Self.opening, from: offset) {
            if let (signal, _) = Self.parse(bytes, at: start) {
                self = signal
                return
            }
            offset = start + 1
        }
        return nil
    }

    /// Every valid test case signal in `text`, in order.
    public static func signals(in text: String) -> [LAVASignal] {
        let bytes = Array(text.utf8)
        var found: [LAVASignal] = []
        var offset = 0
        while let start = bytes.firstOffset(of: opening, from: offset) {
            if let (signal, end) = parse(bytes, at: start) {
                found.append(signal)
                offset = end
            } else {
                offset = start + 1
            }
        }
        return found
    }

    /// The signal as a test case (with empty output).
    public var testCase: TestCase {
        TestCase(name: testCaseID, result: result, measurement: measurement, units: units)
    }

    /// Parses the signal that opens at `start`; returns it and the offset after its `>`.
    private static func parse(_ bytes: [UInt8], at start: Int) -> (LAVASignal, Int)? {
        var index = start + opening.count
        // The name must end here: `<LAVA_SIGNAL_TESTCASEX` is another signal.
        guard index < bytes.count, isBlank(bytes[index]) || bytes[index] == UInt8(ascii: ">") else { return nil }
        var fields: [String: String] = [:]
        while true {
            while index < bytes.count, isBlank(bytes[index]) { index += 1 }
            guard index < bytes.count, bytes[index] != UInt8(ascii: "\n") else { return nil }
            if bytes[index] == UInt8(ascii: ">") {
                index += 1
                break
            }
            let keyStart = index
            while index < bytes.count, !isBlank(bytes[index]), bytes[index] != UInt8(ascii: "="), bytes[index] != UInt8(ascii: ">"),
                bytes[index] != UInt8(ascii: "\n")
            {
                index += 1
            }
            let key = String(decoding: bytes[keyStart..<index], as: UTF8.self)
            guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                // A bare word: not a key=value pair.
                continue
            }
            index += 1
            var value: [UInt8] = []
            if index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
                let quote = bytes[index]
                index += 1
                while index < bytes.count, bytes[index] != quote, bytes[index] != UInt8(ascii: "\n") {
                    value.append(bytes[index])
                    index += 1
                }
                guard index < bytes.count, bytes[index] == quote else { return nil }
                index += 1
            } else {
                while index < bytes.count, !isBlank(bytes[index]), bytes[index] != UInt8(ascii: ">"), bytes[index] != UInt8(ascii: "\n") {
                    value.append(bytes[index])
                    index += 1
                }
            }
            fields[key] = String(decoding: value, as: UTF8.self)
        }
        guard let name = fields["TEST_CASE_ID"], !name.isEmpty, let resultText = fields["RESULT"] else { return nil }
        let result: TestResult
        switch resultText.lowercased() {
        case "pass": result = .pass
        case "fail": result = .fail
        case "skip", "unknown": result = .skip
        default: return nil
        }
        let measurement = fields["MEASUREMENT"].flatMap { Double($0) }
        let units = fields["UNITS"].flatMap { $0.isEmpty ? nil : $0 }
        return (LAVASignal(testCaseID: name, result: result, measurement: measurement, units: units), index)
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
}
