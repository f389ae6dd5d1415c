/// A match found by `ConsoleScanner`.
public struct ConsoleMatch: Sendable, Equatable {
    /// Index of the pattern that matched, in the list given.
    public var patternIndex: Int
    /// The line it matched in.
    public var lineIndex: Int
    /// Matched bytes, as offsets into the transcript.
    public var range: Range<Int>
    /// Arrival time of the line, nanoseconds since power-on.
    public var timeNanoseconds: Int64
    /// Bytes received since the previous match (or since scanning started) up to the end of this
    /// match: what a command printed before its prompt.
    public var output: Range<Int>
}

/// Finds patterns in a growing transcript without rescanning what it has already passed.
///
/// Complete lines are scanned once. The open last line is scanned again as it grows (it is
/// usually a prompt, bounded by `openLineWindow` bytes). After a match, scanning resumes right
/// after it, so each occurrence is reported once; the earliest match among all patterns wins.
public struct ConsoleScanner: Sendable {
    /// Offset before which everything has been consumed.
    public private(set) var position: Int
    private var lineIndex = 0
    private var outputStart: Int
    /// How much of an open line is searched (protects against endless output with no newline).
    public var openLineWindow = 4096

    /// Starts scanning at `offset` (usually the transcript's current end).
    public init(startingAt offset: Int = 0) {
        position = offset
        outputStart = offset
    }

    /// Moves past everything received so far without matching it.
    public mutating func skip(to offset: Int) {
        position = offset
        outputStart = offset
    }

    /// The earliest match of any pattern after the current position, consuming up to its end.
    public mutating func next(in transcript: ConsoleTranscript, patterns: [ConsolePattern]) -> ConsoleMatch? {
        guard transcript.lineCount > 0, position < transcript.bytes.count else { return nil }
        if lineIndex >= transcript.lineCount || transcript.lineStarts[lineIndex] > position
            || (lineIndex + 1 < transcript.lineCount && transcript.lineStarts[lineIndex + 1] <= position)
        {
            lineIndex = transcript.lineIndex(containing: position)
        }
        return transcript.bytes.withUnsafeBufferPointer { buffer -> ConsoleMatch? in
            while lineIndex < transcript.lineCount {
                let complete = transcript.isComplete(lineIndex)
                let full = transcript.lineRange(lineIndex)
                var lower = max(position, full.lowerBound)
                if !complete { lower = max(lower, full.upperBound - openLineWindow) }
                let segment = lower..<max(lower, full.upperBound)
                var best: (index: Int, range: Range<Int>)?
                if !segment.isEmpty {
                    for (index, pattern) in patterns.enumerated() {
                        guard let found = pattern.firstMatch(in: buffer, range: segment) else { continue }
                        if let current = best, current.range.lowerBound <= found.lowerBound { continue }
                        best = (index, found)
                    }
                }
                if let best {
                    let match = ConsoleMatch(
                        patternIndex: best.index, lineIndex: lineIndex, range: best.range,
                        timeNanoseconds: transcript.lineTimes[lineIndex], output: outputStart..<best.range.upperBound)
                    position = best.range.upperBound
                    outputStart = position
                    return match
                }
                guard complete else { return nil }
                lineIndex += 1
                position = lineIndex < transcript.lineCount ? transcript.lineStarts[lineIndex] : transcript.bytes.count
            }
            return nil
        }
    }
}
