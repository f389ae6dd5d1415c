import Testing

@testable import FarmCore

@Suite("Console scanner")
struct ConsoleScannerTests {
    func patterns(_ sources: String...) throws -> [ConsolePattern] {
        try sources.map { try ConsolePattern.regex($0) }
    }

    func text(_ transcript: ConsoleTranscript, _ range: Range<Int>) -> String {
        String(decoding: transcript.bytes[range], as: UTF8.self)
    }

    @Test func theEarliestMatchAmongThePatternsWins() throws {
        var transcript = ConsoleTranscript()
        transcript.append(Array("Starting kernel ...\r\n[    0.000000] Linux version 6.1\r\n".utf8), at: 0)
        var scanner = ConsoleScanner()
        let watched = try patterns("Linux version ", "Starting kernel")
        let firstFound = scanner.next(in: transcript, patterns: watched)
        let first = try #require(firstFound)
        #expect(first.patternIndex == 1)
        #expect(first.range == 0..<15)
        let secondFound = scanner.next(in: transcript, patterns: watched)
        let second = try #require(secondFound)
        #expect(second.patternIndex == 0)
        #expect(second.lineIndex == 1)
    }

    @Test func withinALineTheEarliestPositionWinsOverPatternOrder() throws {
        var transcript = ConsoleTranscript()
        transcript.append(Array("foo bar\n".utf8), at: 0)
        var scanner = ConsoleScanner()
        let matchFound = scanner.next(in: transcript, patterns: try patterns("bar", "foo"))
        let match = try #require(matchFound)
        #expect(match.patternIndex == 1)
        #expect(match.range == 0..<3)
    }

    @Test func matchesStartingAtTheSamePlaceGoToTheFirstPattern() throws {
        var transcript = ConsoleTranscript()
        transcript.append(Array("abcdef\n".utf8), at: 0)
        var scanner = ConsoleScanner()
        let matchFound = scanner.next(in: transcript, patterns: try patterns("abc", "abcdef"))
        let match = try #require(matchFound)
        #expect(match.patternIndex == 0)
    }

    @Test func eachOccurrenceIsReportedOnce() throws {
        var transcript = ConsoleTranscript()
        transcript.append(Array("=> x => y\n=> ".utf8), at: 0)
        var scanner = ConsoleScanner()
        let prompt = try patterns("=> ")
        var starts: [Int] = []
        while let match = scanner.next(in: transcript, patterns: prompt) { starts.append(match.range.lowerBound) }
        #expect(starts == [0, 5, 10])
        #expect(scanner.next(in: transcript, patterns: prompt) == nil)
        #expect(scanner.position == transcript.bytes.count)
    }

    @Test func aPromptWithoutNewlineIsMatchedOnTheOpenLine() throws {
        var transcript = ConsoleTranscript()
        transcript.append(Array("Enter 'help' for a list of built-in commands.\r\n\r\n/ # ".utf8), at: 7_000)
        var scanner = ConsoleScanner()
        let matchFound = scanner.next(in: transcript, patterns: try patterns("/ # "))
        let match = try #require(matchFound)
        #expect(match.lineIndex == 2)
        #expect(text(transcript, match.range) == "/ # ")
        #expect(match.timeNanoseconds == 7_000)
        #expect(!transcript.isComplete(match.lineIndex))
    }

    @Test func theOpenLineIsScannedAgainAsItGrows() throws {
        var transcript = ConsoleTranscript()
        var scanner = ConsoleScanner()
        let prompt = try patterns("/ # ")
        transcript.append(Array("/".utf8), at: 1)
        #expect(scanner.next(in: transcript, patterns: prompt) == nil)
        #expect(scanner.position == 0)
        transcript.append(Array(" #".utf8), at: 2)
        #expect(scanner.next(in: transcript, patterns: prompt) == nil)
        transcript.append(Array(" ".utf8), at: 3)
        let matchFound = scanner.next(in: transcript, patterns: prompt)
        let match = try #require(matchFound)
        #expect(match.range == 0..<4)
        #expect(match.timeNanoseconds == 1)
    }

    @Test func completeLinesAreNeverScannedAgain() throws {
        var transcript = ConsoleTranscript()
        var scanner = ConsoleScanner()
        let absent = try patterns("no such text")
        transcript.append(Array("Run /init as init process\r\n".utf8), at: 1)
        #expect(scanner.next(in: transcript, patterns: absent) == nil)
        #expect(scanner.position == transcript.bytes.count)
        transcript.append(Array("bootfarm: userspace up\r\n".utf8), at: 2)
        #expect(scanner.next(in: transcript, patterns: absent) == nil)
        #expect(scanner.position == transcript.bytes.count)
        // Both lines were consumed: a pattern that is in them is not found afterwards.
        #expect(scanner.next(in: transcript, patterns: try patterns("Run /init", "userspace up")) == nil)
        transcript.append(Array("Run /init again\r\n".utf8), at: 3)
        let matchFound = scanner.next(in: transcript, patterns: try patterns("Run /init"))
        let match = try #require(matchFound)
        #expect(match.lineIndex == 2)
        #expect(match.timeNanoseconds == 3)
    }

    @Test func anOpenLineIsConsumedOnceItCompletesWithoutAMatch() throws {
        var transcript = ConsoleTranscript()
        var scanner = ConsoleScanner()
        let prompt = try patterns("=> ")
        transcript.append(Array("Loading: ###".utf8), at: 1)
        #expect(scanner.next(in: transcript, patterns: prompt) == nil)
        #expect(scanner.position == 0)
        transcript.append(Array("#\r\n".utf8), at: 2)
        #expect(scanner.next(in: transcript, patterns: prompt) == nil)
        #expect(scanner.position == 15)
    }

    @Test func theOutputRangeCoversTextSinceThePreviousMatch() throws {
        var transcript = ConsoleTranscript()
        let prompt = try patterns("=> ")
        var scanner = ConsoleScanner()
        transcript.append(Array("Hit any key to stop autoboot:  0 \r\n=> ".utf8), at: 0)
        let firstFound = scanner.next(in: transcript, patterns: prompt)
        let first = try #require(firstFound)
        #expect(first.output == 0..<first.range.upperBound)
        transcript.append(Array("dhcp\r\nBOOTP broadcast 1\r\nDHCP client bound to address 10.0.2.15 (2 ms)\r\n=> ".utf8), at: 1)
        let secondFound = scanner.next(in: transcript, patterns: prompt)
        let second = try #require(secondFound)
        #expect(second.output.lowerBound == first.range.upperBound)
        #expect(text(transcript, second.output) == "dhcp\r\nBOOTP broadcast 1\r\nDHCP client bound to address 10.0.2.15 (2 ms)\r\n=> ")
    }

    @Test func aScannerStartedLaterIgnoresEarlierText() throws {
        var transcript = ConsoleTranscript()
        transcript.append(Array("=> old\n".utf8), at: 0)
        var scanner = ConsoleScanner(startingAt: transcript.bytes.count)
        #expect(scanner.next(in: transcript, patterns: try patterns("=> ")) == nil)
        transcript.append(Array("=> ".utf8), at: 1)
        let matchFound = scanner.next(in: transcript, patterns: try patterns("=> "))
        let match = try #require(matchFound)
        #expect(match.range == 7..<10)
        #expect(match.output == 7..<10)
    }

    @Test func skippingMovesPastTextWithoutMatchingIt() throws {
        var transcript = ConsoleTranscript()
        transcript.append(Array("=> echo\n=> ".utf8), at: 0)
        var scanner = ConsoleScanner()
        scanner.skip(to: 8)
        let matchFound = scanner.next(in: transcript, patterns: try patterns("=> "))
        let match = try #require(matchFound)
        #expect(match.range == 8..<11)
        #expect(match.output == 8..<11)
    }

    @Test func aPromptFedLineByLineIsFoundAtItsExactPosition() throws {
        let fed = ["U-Boot 2023.01\r\n", "Hit any key to stop autoboot:  2 ", "\u{8}\u{8}\u{8} 0 \r\n", "=> "]
        var transcript = ConsoleTranscript()
        var scanner = ConsoleScanner()
        let watched = try patterns("Hit any key to stop autoboot", "=> ")
        var matches: [ConsoleMatch] = []
        for (index, chunk) in fed.enumerated() {
            transcript.append(Array(chunk.utf8), at: Int64(index))
            while let match = scanner.next(in: transcript, patterns: watched) { matches.append(match) }
        }
        #expect(matches.map(\.patternIndex) == [0, 1])
        #expect(matches.map(\.lineIndex) == [1, 2])
        #expect(matches.map(\.range) == [16..<44, 57..<60])
        #expect(matches.map(\.timeNanoseconds) == [1, 3])
    }

    @Test func nothingIsFoundInAnEmptyTranscript() throws {
        var scanner = ConsoleScanner()
        #expect(scanner.next(in: ConsoleTranscript(), patterns: try patterns("=> ")) == nil)
    }

    @Test func anAnchoredPatternMatchesOnlyAtTheStartOfALine() throws {
        var transcript = ConsoleTranscript()
        transcript.append(Array("x => y\n=> ".utf8), at: 0)
        var scanner = ConsoleScanner()
        let matchFound = scanner.next(in: transcript, patterns: try patterns("^=> "))
        let match = try #require(matchFound)
        #expect(match.range == 7..<10)
    }

    @Test func anAnchoredPatternDoesNotMatchInTheMiddleOfALineAfterAnEarlierMatch() throws {
        var transcript = ConsoleTranscript()
        transcript.append(Array("Starting kernel => \n=> ".utf8), at: 0)
        var scanner = ConsoleScanner()
        let earlier = scanner.next(in: transcript, patterns: try patterns("Starting kernel "))
        #expect(earlier != nil)
        let matchFound = scanner.next(in: transcript, patterns: try patterns("^=> "))
        let match = try #require(matchFound)
        #expect(match.lineIndex == 1)
        #expect(match.range == 20..<23)
    }
}
