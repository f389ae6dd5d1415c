import Testing

@testable import FarmCore

@Suite("Console transcripts")
struct ConsoleTranscriptTests {
    func lines(_ transcript: ConsoleTranscript) -> [String] {
        (0..<transcript.lineCount).map { transcript.line($0) }
    }

    @Test func linesSplitOnNewlineAndCarryTheArrivalTimeOfTheirFirstByte() {
        var transcript = ConsoleTranscript()
        transcript.append(Array("U-Boot\nDRAM:  512 MiB\n".utf8), at: 100)
        transcript.append(Array("Net:   eth0\n".utf8), at: 250)
        #expect(lines(transcript) == ["U-Boot", "DRAM:  512 MiB", "Net:   eth0"])
        #expect(transcript.lineTimes == [100, 100, 250])
        #expect(transcript.lineStarts == [0, 7, 22])
        #expect(!transcript.lastLineOpen)
        #expect((0..<3).allSatisfy(transcript.isComplete))
    }

    @Test func aChunkBoundaryInsideALineKeepsTheTimeOfTheLinesFirstByte() {
        var transcript = ConsoleTranscript()
        transcript.append(Array("hel".utf8), at: 1)
        transcript.append(Array("lo\nwor".utf8), at: 2)
        transcript.append(Array("ld\n".utf8), at: 3)
        #expect(lines(transcript) == ["hello", "world"])
        #expect(transcript.lineTimes == [1, 2])
        #expect(transcript.lineStarts == [0, 6])
    }

    @Test func aChunkEndingInANewlineStartsTheNextLineAtTheNextChunk() {
        var transcript = ConsoleTranscript()
        transcript.append(Array("one\n".utf8), at: 1)
        #expect(transcript.lineCount == 1)
        transcript.append(Array("two".utf8), at: 5)
        #expect(transcript.lineCount == 2)
        #expect(transcript.lineTimes == [1, 5])
    }

    @Test func thePromptAfterTheLastNewlineIsAnOpenLine() {
        var transcript = ConsoleTranscript()
        transcript.append(Array("Please press Enter to activate this console.\n/ # ".utf8), at: 9)
        #expect(transcript.lineCount == 2)
        #expect(transcript.lastLineOpen)
        #expect(transcript.isComplete(0))
        #expect(!transcript.isComplete(1))
        #expect(transcript.line(1) == "/ # ")
        #expect(transcript.lineRange(1) == 45..<49)
        transcript.append(Array("ls\n".utf8), at: 10)
        #expect(transcript.isComplete(1))
        #expect(transcript.line(1) == "/ # ls")
        #expect(transcript.lineTimes == [9, 9])
    }

    @Test func carriageReturnsAreLeftOutOfLineRangesButKeptInTheBytes() {
        var transcript = ConsoleTranscript()
        transcript.append(Array("DRAM:  512 MiB\r\n\r\n=> ".utf8), at: 0)
        #expect(transcript.lineRange(0) == 0..<14)
        #expect(transcript.lineRange(1) == 16..<16)
        #expect(lines(transcript) == ["DRAM:  512 MiB", "", "=> "])
        #expect(transcript.bytes[14] == 0x0D)
        #expect(transcript.bytes.count == 21)
    }

    @Test func aCarriageReturnArrivingBeforeItsNewlineIsLeftOut() {
        var transcript = ConsoleTranscript()
        transcript.append(Array("done\r".utf8), at: 0)
        transcript.append(Array("\n".utf8), at: 1)
        #expect(transcript.line(0) == "done")
        #expect(transcript.lineCount == 1)
    }

    @Test func emptyLinesAreLinesOfTheirOwn() {
        var transcript = ConsoleTranscript()
        transcript.append(Array("\n\nx\n".utf8), at: 3)
        #expect(lines(transcript) == ["", "", "x"])
        #expect(transcript.lineRange(0).isEmpty)
    }

    @Test func bytesAreKeptExactlyAsReceived() {
        let received: [UInt8] = [0x00, 0xFF, 0x1B, 0x5B, 0x36, 0x6E, 0xC3, 0x28, 0x0D, 0x0A, 0x08, 0x7F]
        var transcript = ConsoleTranscript()
        transcript.append(received[0..<5], at: 1)
        transcript.append(received[5...], at: 2)
        #expect(transcript.bytes == received)
        #expect(transcript.lineRange(0) == 0..<8)
        // The text view replaces invalid UTF-8; the bytes stay as they were.
        #expect(transcript.line(0).contains("\u{FFFD}"))
        #expect(transcript.line(0).hasPrefix("\u{0}"))
        #expect(transcript.line(1) == "\u{8}\u{7F}")
    }

    @Test func anEmptyChunkChangesNothing() {
        var transcript = ConsoleTranscript()
        transcript.append([UInt8](), at: 5)
        #expect(transcript.lineCount == 0)
        #expect(!transcript.lastLineOpen)
        transcript.append(Array("a".utf8), at: 6)
        transcript.append([UInt8](), at: 7)
        #expect(transcript.lineTimes == [6])
    }

    @Test func theLineHoldingAnOffsetIsFound() {
        var transcript = ConsoleTranscript()
        transcript.append(Array("ab\ncd\n\nef".utf8), at: 0)
        #expect(transcript.lineStarts == [0, 3, 6, 7])
        let expected = [0, 0, 0, 1, 1, 1, 2, 3, 3]
        for (offset, line) in expected.enumerated() {
            #expect(transcript.lineIndex(containing: offset) == line, "offset \(offset)")
        }
    }

    @Test func packedLineTimesRoundTrip() {
        var transcript = ConsoleTranscript()
        let times: [Int64] = [0, 1, 255, 256, 1_312_986_000, Int64.max, -1, Int64.min]
        for (index, time) in times.enumerated() {
            transcript.append(Array("line \(index)\n".utf8), at: time)
        }
        let packed = transcript.packedLineTimes
        #expect(packed.count == times.count * 8)
        #expect(Array(packed[8..<16]) == [1, 0, 0, 0, 0, 0, 0, 0])
        #expect(ConsoleTranscript.unpackLineTimes(packed) == times)
        #expect(ConsoleTranscript.unpackLineTimes(packed + [1, 2, 3]) == times)
    }

    @Test func aTranscriptRebuiltFromStoredBytesAndTimesIsTheSame() {
        var original = ConsoleTranscript()
        original.append(Array("U-Boot 2023.01\r\n".utf8), at: 1_000)
        original.append(Array("Hit any key".utf8), at: 2_000)
        original.append(Array(" to stop autoboot\r\n=> ".utf8), at: 3_000)
        let stored = ConsoleTranscript.unpackLineTimes(original.packedLineTimes)
        let rebuilt = ConsoleTranscript(bytes: original.bytes, lineTimes: stored)
        #expect(rebuilt.bytes == original.bytes)
        #expect(rebuilt.lineStarts == original.lineStarts)
        #expect(rebuilt.lineTimes == [1_000, 2_000, 3_000])
        #expect(rebuilt.lastLineOpen)
        #expect(lines(rebuilt) == lines(original))
    }
}
