import Testing

@testable import FarmCore

@Suite("Console patterns and their literal analysis")
struct ConsolePatternTests {
    /// The first match of `pattern` in `bytes` (one line, or an open line), from `offset` on.
    func firstMatch(_ pattern: ConsolePattern, in bytes: [UInt8], from offset: Int = 0) -> Range<Int>? {
        var transcript = ConsoleTranscript()
        transcript.append(bytes, at: 0)
        var scanner = ConsoleScanner(startingAt: offset)
        return scanner.next(in: transcript, patterns: [pattern])?.range
    }

    func firstMatch(_ pattern: ConsolePattern, in text: String) -> Range<Int>? {
        firstMatch(pattern, in: Array(text.utf8))
    }

    // MARK: Literal analysis

    @Test func theLongestRequiredRunOfAKernelWarningPatternIsItsPrefix() {
        let analysis = LiteralAnalysis(#"WARNING: CPU: \d+ PID: \d+"#)
        #expect(analysis.longestRun == "WARNING: CPU: ")
        #expect(!analysis.isPlainText)
    }

    @Test(arguments: ["=> ", "/ # ", "Hit any key to stop autoboot", "Starting kernel ...", "root@board:~# "])
    func plainTextPatternsArePlainAndRequireThemselves(_ pattern: String) throws {
        let analysis = LiteralAnalysis(pattern)
        #expect(analysis.isPlainText == !pattern.contains("."))
        if analysis.isPlainText { #expect(analysis.longestRun == pattern) }
        let compiled = try ConsolePattern.regex(pattern)
        #expect((compiled.expression == nil) == analysis.isPlainText)
    }

    @Test func anAlternationHasNoRequiredLiteral() {
        for pattern in ["a|b", "login: |Password: ", "(foo|bar)baz"] {
            let analysis = LiteralAnalysis(pattern)
            #expect(analysis.longestRun == "", "\(pattern)")
            #expect(!analysis.isPlainText, "\(pattern)")
        }
    }

    @Test func escapedOperatorsAreLiteralText() {
        let dot = LiteralAnalysis(#"Starting kernel \.\.\."#)
        #expect(dot.isPlainText)
        #expect(dot.longestRun == "Starting kernel ...")
        let bar = LiteralAnalysis(#"a\|b"#)
        #expect(bar.isPlainText)
        #expect(bar.longestRun == "a|b")
        let brackets = LiteralAnalysis(#"\[ end \]"#)
        #expect(brackets.longestRun == "[ end ]")
    }

    @Test func aCharacterUnderAnOptionalQuantifierIsLeftOutOfTheRun() {
        #expect(LiteralAnalysis("abc*def").longestRun == "def")
        #expect(LiteralAnalysis("abcd?ef").longestRun == "abc")
        #expect(LiteralAnalysis("abcd{0,2}e").longestRun == "abc")
    }

    @Test func aCharacterRepeatedOneOrMoreTimesEndsTheRunButIsRequiredOnce() {
        let analysis = LiteralAnalysis("abc+de")
        #expect(analysis.longestRun == "abc")
        #expect(!analysis.isPlainText)
    }

    @Test func groupsClassesAndEscapeClassesBreakRuns() {
        #expect(LiteralAnalysis(#"Linux version \d+\.\d+"#).longestRun == "Linux version ")
        #expect(LiteralAnalysis("ab[xyz]+cdef").longestRun == "cdef")
        #expect(LiteralAnalysis("ab(cd)?efg").longestRun == "efg")
        #expect(LiteralAnalysis("^=> $").longestRun == "=> ")
        #expect(LiteralAnalysis(".*").longestRun == "")
    }

    @Test func everyMatchContainsTheRequiredLiteral() throws {
        let samples = [
            (#"WARNING: CPU: \d+ PID: \d+"#, "[    1.0] WARNING: CPU: 3 PID: 117 at mm/slub.c:42"),
            ("abc+de", "xxabcccde"),
            ("ab[xyz]+cdef", "abzzcdef"),
            (#"Bytes transferred = \d+"#, "Bytes transferred = 8247232 (7dd7c0 hex)"),
        ]
        for (source, line) in samples {
            let pattern = try ConsolePattern.regex(source)
            let range = try #require(firstMatch(pattern, in: line), "\(source)")
            let matched = String(decoding: Array(line.utf8)[range], as: UTF8.self)
            #expect(matched.contains(String(decoding: pattern.requiredLiteral, as: UTF8.self)), "\(source)")
        }
    }

    // MARK: Matching

    @Test func aPlainPatternMatchesItsBytes() throws {
        let pattern = try ConsolePattern.regex("=> ")
        #expect(firstMatch(pattern, in: "Bytes transferred = 1\r\n=> ") == 23..<26)
        #expect(firstMatch(pattern, in: "=>") == nil)
    }

    @Test func aRegexMatchReturnsTheMatchedByteRange() throws {
        let pattern = try ConsolePattern.regex(#"WARNING: CPU: \d+ PID: \d+"#)
        let line = "[    0.5] WARNING: CPU: 0 PID: 1 at kernel/foo.c:10 bar+0x1/0x2"
        #expect(firstMatch(pattern, in: line) == 10..<32)
        #expect(firstMatch(pattern, in: "WARNING: CPU: x PID: 1") == nil)
        #expect(firstMatch(pattern, in: "nothing to see") == nil)
    }

    @Test func aLiteralPatternTreatsOperatorsAsText() {
        let pattern = ConsolePattern.literal("a.b")
        #expect(firstMatch(pattern, in: "a.b") == 0..<3)
        #expect(firstMatch(pattern, in: "axb") == nil)
        #expect(pattern.source == #"a\.b"#)
    }

    @Test func aRegexMatchesOnlyFromWhereTheSearchStarts() throws {
        let pattern = try ConsolePattern.regex("b+")
        let bytes = Array("abbbab".utf8)
        #expect(firstMatch(pattern, in: bytes) == 1..<4)
        #expect(firstMatch(pattern, in: bytes, from: 4) == 5..<6)
        #expect(firstMatch(pattern, in: bytes, from: 6) == nil)
    }

    @Test func aMatchNeverSpansTwoLines() throws {
        let pattern = try ConsolePattern.regex(#"end\s+start"#)
        #expect(firstMatch(pattern, in: Array("end\nstart\n".utf8)) == nil)
        #expect(firstMatch(pattern, in: Array("end  start\n".utf8)) == 0..<10)
    }

    @Test func invalidUTF8BeforeAMatchKeepsByteOffsets() throws {
        let pattern = try ConsolePattern.regex(#"login: \w*"#)
        let bytes: [UInt8] = [0xFF, 0xC3, 0x28, 0x80] + Array("login: root".utf8)
        #expect(firstMatch(pattern, in: bytes) == 4..<15)
    }

    @Test func eachByteIsOneCharacterToTheRegex() throws {
        // U+00E9 is two bytes in UTF-8; a regex over bytes sees two characters.
        let two = try ConsolePattern.regex("a..b")
        #expect(firstMatch(two, in: "a\u{E9}b") == 0..<4)
        let one = try ConsolePattern.regex("a.b")
        #expect(firstMatch(one, in: [0x61, 0xFF, 0x62]) == 0..<3)
        #expect(firstMatch(one, in: "a\u{E9}b") == nil)
    }

    @Test func nulAndEscapeBytesDoNotStopMatching() throws {
        let pattern = try ConsolePattern.regex(#"/ # $"#)
        let bytes: [UInt8] = [0x00, 0x1B, 0x5B, 0x36, 0x6E] + Array("/ # ".utf8)
        #expect(firstMatch(pattern, in: bytes) == 5..<9)
    }

    @Test func anInvalidRegexThrowsNamingThePattern() {
        let error = #expect(throws: ConsolePatternError.self) { try ConsolePattern.regex("(unclosed") }
        #expect(error?.pattern == "(unclosed")
        #expect(error?.description.contains("'(unclosed'") == true)
    }

    @Test func anEmptyPatternThrows() {
        #expect(throws: ConsolePatternError.self) { try ConsolePattern.regex("") }
    }

    @Test func patternsAreEqualWhenWrittenAlike() throws {
        #expect(try ConsolePattern.regex("=> ") == ConsolePattern.regex("=> "))
        #expect(try ConsolePattern.regex("=> ") != ConsolePattern.regex("# "))
        #expect(try ConsolePattern.regex("=> ").description == "=> ")
    }
}
