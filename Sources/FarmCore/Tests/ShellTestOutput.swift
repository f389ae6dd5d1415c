/// What a shell test command printed between its markers, its exit status, and the test cases
/// that come out of it.
///
/// The console text is cleaned before the markers are looked for: terminal escape sequences go,
/// `\r` before `\n` goes, and kernel messages (`[   12.345678] text` up to and including the end
/// of their line) are cut out wherever they start. The kernel writes to a serial console without
/// regard for the shell, so its messages land between output lines or in the middle of one (even
/// of a marker); cutting them out joins the interrupted line again.
public struct ShellTestOutput: Sendable, Equatable {
    /// The command's exit status (`$?`, 0–255).
    public var exitCode: Int
    /// What the command printed, cleaned as described above.
    public var output: String
    /// The definition's own case first (pass on exit status 0, fail otherwise, with `output`),
    /// then one case per LAVA test case signal in the output, in order.
    public var testCases: [TestCase]

    /// Parses the console text received since `command.line` was sent; nil when the text holds no
    /// complete end marker (the caller reports a timeout).
    ///
    /// Pass everything up to and including a match of `command.endPattern`: that match guarantees
    /// the exit status arrived whole.
    public init?(parsing text: String, for command: ShellTestCommand) {
        self.init(parsing: Array(text.utf8), for: command)
    }

    /// Parses raw console bytes received since `command.line` was sent; see `init(parsing:for:)`.
    public init?(parsing raw: [UInt8], for command: ShellTestCommand) {
        let bytes = Self.cleaned(raw)
        let startMarker = Array(command.startMarker.utf8)
        var begin = 0
        var foundStart = false
        if let start = bytes.firstOffset(of: startMarker) {
            begin = Self.offsetAfterLine(in: bytes, from: start + startMarker.count)
            foundStart = true
        }
        guard let end = Self.endMarker(in: bytes, prefix: Array(command.endMarkerPrefix.utf8), from: begin) else { return nil }
        if !foundStart, let echo = bytes.lastOffset(of: Array("BFTEST-%s-END".utf8), before: end.offset) {
            // The start marker was lost: the output begins after the echo of the typed line.
            begin = Self.offsetAfterLine(in: bytes, from: echo)
        }
        let output = String(decoding: bytes[min(begin, end.offset)..<end.offset], as: UTF8.self)
        self.exitCode = end.status
        self.output = output
        let own = TestCase(name: command.definition.name, result: end.status == 0 ? .pass : .fail, output: output)
        self.testCases = [own] + LAVASignal.signals(in: output).map(\.testCase)
    }

    /// The first end marker at or after `from` followed by a whole status: its offset and status.
    private static func endMarker(in bytes: [UInt8], prefix: [UInt8], from: Int) -> (offset: Int, status: Int)? {
        var searchFrom = from
        while let offset = bytes.firstOffset(of: prefix, from: searchFrom) {
            var index = offset + prefix.count
            var status = 0
            var digitCount = 0
            while index < bytes.count, let digit = digitValue(bytes[index]), digitCount < 9 {
                status = status * 10 + digit
                digitCount += 1
                index += 1
            }
            if digitCount > 0, index == bytes.count || digitValue(bytes[index]) == nil {
                return (offset, status)
            }
            searchFrom = offset + 1
        }
        return nil
    }

    /// The offset just past the `\n` that ends the line holding `offset` (or the text's end).
    private static func offsetAfterLine(in bytes: [UInt8], from offset: Int) -> Int {
        var index = offset
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
        return min(bytes.count, index + 1)
    }

    private static func digitValue(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// `raw` without escape sequences, without `\r` before `\n`, and without kernel messages.
    static func cleaned(_ raw: [UInt8]) -> [UInt8] {
        removingKernelMessages(removingCarriageReturns(ConsoleText.removingEscapeSequences(raw)))
    }

    /// Removes every run of `\r` that ends at a `\n` (CR LF, and the CR CR LF some consoles send).
    static func removingCarriageReturns(_ raw: [UInt8]) -> [UInt8] {
        let carriageReturn = UInt8(ascii: "\r")
        guard raw.contains(carriageReturn) else { return raw }
        var result: [UInt8] = []
        result.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            guard raw[index] == carriageReturn else {
                result.append(raw[index])
                index += 1
                continue
            }
            var runEnd = index
            while runEnd < raw.count, raw[runEnd] == carriageReturn { runEnd += 1 }
            if runEnd == raw.count || raw[runEnd] != UInt8(ascii: "\n") {
                result.append(contentsOf: raw[index..<runEnd])
            }
            index = runEnd
        }
        return result
    }

    /// Removes kernel message fragments: `\[\s*\d+\.\d+\] [^\n]*\n?`, wherever they start.
    static func removingKernelMessages(_ raw: [UInt8]) -> [UInt8] {
        guard raw.contains(UInt8(ascii: "[")) else { return raw }
        var result: [UInt8] = []
        result.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            if raw[index] == UInt8(ascii: "["), let end = kernelMessageEnd(in: raw, at: index) {
                index = end
            } else {
                result.append(raw[index])
                index += 1
            }
        }
        return result
    }

    /// The offset after the kernel message that starts at `start` (a `[`), or nil when none does.
    private static func kernelMessageEnd(in raw: [UInt8], at start: Int) -> Int? {
        var index = start + 1
        while index < raw.count, raw[index] == UInt8(ascii: " ") || raw[index] == UInt8(ascii: "\t") { index += 1 }
        let secondsStart = index
        while index < raw.count, digitValue(raw[index]) != nil { index += 1 }
        guard index > secondsStart, index < raw.count, raw[index] == UInt8(ascii: ".") else { return nil }
        index += 1
        let fractionStart = index
        while index < raw.count, digitValue(raw[index]) != nil { index += 1 }
        guard index > fractionStart, index + 1 < raw.count, raw[index] == UInt8(ascii: "]"), raw[index + 1] == UInt8(ascii: " ") else {
            return nil
        }
        return offsetAfterLine(in: raw, from: index + 2)
    }
}
