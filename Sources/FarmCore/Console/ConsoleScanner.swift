import Foundation

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
/// Each pattern's required literal is searched with `memmem` across all new bytes at once, not
/// line by line; only lines holding the literal run the regular expression. Per pattern the
/// scanner remembers how far it has searched and the next hit it found, so text is searched once
/// per pattern however the bytes arrive. A match lies within one line; the open last line (a
/// prompt has no newline) is matched as it grows. After a match, scanning resumes right after it,
/// so each occurrence is reported once and the earliest match among the patterns wins (the first
/// pattern on a tie). A call that finds nothing consumes the complete lines it searched.
public struct ConsoleScanner: Sendable {
    /// Offset before which everything has been consumed.
    public private(set) var position: Int
    private var outputStart: Int
    /// The patterns the cursors belong to (a new list starts the search afresh).
    private var sources: [String] = []
    /// Per pattern: every literal occurrence starting before this offset has been examined.
    private var cursors: [Int] = []
    /// Per pattern: the next match found at or after `position`, if any.
    private var hits: [Range<Int>?] = []
    /// Per pattern: the offset in its literal of the byte rarest in this console's output; the
    /// search runs `memchr` for that byte and compares the literal around each hit.
    private var rareOffsets: [Int] = []
    /// Byte counts of the first output seen, to pick rare bytes (nil until enough has arrived).
    private var byteCounts: [Int]?
    /// How many bytes around a literal on the open line the expression sees (protects against
    /// endless output with no newline).
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
        sources = []
    }

    /// The earliest match of any pattern after the current position, consuming up to its end.
    public mutating func next(in transcript: ConsoleTranscript, patterns: [ConsolePattern]) -> ConsoleMatch? {
        guard transcript.lineCount > 0, position < transcript.bytes.count else { return nil }
        if sources.count != patterns.count || !zip(sources, patterns).allSatisfy({ $0 == $1.source }) {
            sources = patterns.map(\.source)
            cursors = Array(repeating: position, count: patterns.count)
            hits = Array(repeating: nil, count: patterns.count)
            rareOffsets = patterns.map { rareOffset(in: $0.literal) }
        }
        if byteCounts == nil, transcript.bytes.count >= 16384 {
            // Sample the output once: what is rare in this board's log is what to search for.
            var counts = Array(repeating: 0, count: 256)
            for byte in transcript.bytes.prefix(65536) { counts[Int(byte)] += 1 }
            byteCounts = counts
            rareOffsets = patterns.map { rareOffset(in: $0.literal) }
        }
        return transcript.bytes.withUnsafeBufferPointer { buffer -> ConsoleMatch? in
            var best: (index: Int, range: Range<Int>)?
            for index in patterns.indices {
                var hit = hits[index]
                if hit == nil || hit.map({ $0.lowerBound < position }) == true {
                    hit = search(patterns[index], index, buffer, transcript)
                    hits[index] = hit
                }
                guard let hit else { continue }
                if let current = best, current.range.lowerBound <= hit.lowerBound { continue }
                best = (index, hit)
            }
            guard let best else {
                // Nothing matched: the complete lines are consumed; the open line is kept.
                let openStart = transcript.lastLineOpen ? (transcript.lineStarts.last ?? transcript.bytes.count) : transcript.bytes.count
                if openStart > position { position = openStart }
                return nil
            }
            let line = transcript.lineIndex(containing: best.range.lowerBound)
            let match = ConsoleMatch(
                patternIndex: best.index, lineIndex: line, range: best.range, timeNanoseconds: transcript.lineTimes[line],
                output: outputStart..<best.range.upperBound)
            hits[best.index] = nil
            position = best.range.upperBound
            outputStart = position
            return match
        }
    }

    /// The offset of the literal's rarest byte: by this console's byte counts once sampled, else
    /// by a fixed guess (upper case and punctuation are rarer than lower case, digits and blanks).
    func rareOffset(in literal: [UInt8]) -> Int {
        guard !literal.isEmpty else { return 0 }
        func weight(_ byte: UInt8) -> Int {
            if let byteCounts { return byteCounts[Int(byte)] }
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "e"), UInt8(ascii: "t"), UInt8(ascii: "a"):
                return 100
            case UInt8(ascii: "a")...UInt8(ascii: "z"): return 50
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return 10
            default: return 20
            }
        }
        var best = 0
        for offset in literal.indices where weight(literal[offset]) < weight(literal[best]) { best = offset }
        return best
    }

    /// The first occurrence of `literal` starting in `from..<end`: `memchr` for its rare byte,
    /// then a comparison of the whole literal around each candidate.
    static func find(_ literal: [UInt8], rareOffset: Int, in base: UnsafePointer<UInt8>, from: Int, end: Int) -> Int? {
        let count = literal.count
        let rareByte = Int32(literal[rareOffset])
        var probe = from + rareOffset
        return literal.withUnsafeBytes { needle -> Int? in
            guard let needleBase = needle.baseAddress else { return nil }
            while probe < end {
                guard let hit = memchr(base + probe, rareByte, end - probe) else { return nil }
                let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                let start = at - rareOffset
                if start + count <= end, memcmp(base + start, needleBase, count) == 0 { return start }
                probe = at + 1
            }
            return nil
        }
    }

    /// Finds pattern `index`'s next match from where its search stopped.
    private mutating func search(
        _ pattern: ConsolePattern, _ index: Int, _ buffer: UnsafeBufferPointer<UInt8>, _ transcript: ConsoleTranscript
    ) -> Range<Int>? {
        guard let base = buffer.baseAddress else { return nil }
        let end = buffer.count
        var from = max(cursors[index], position)
        let literal = pattern.literal
        if literal.isEmpty {
            // No literal to search for: run the expression line by line.
            var line = transcript.lineIndex(containing: from)
            while line < transcript.lineCount {
                let range = transcript.lineRange(line)
                let start = max(from, range.lowerBound)
                if let found = pattern.expressionMatch(in: buffer, line: range, search: start..<max(start, range.upperBound)) {
                    cursors[index] = found.lowerBound
                    return found
                }
                guard transcript.isComplete(line) else {
                    cursors[index] = start
                    return nil
                }
                line += 1
                from = line < transcript.lineCount ? transcript.lineStarts[line] : end
            }
            cursors[index] = end
            return nil
        }
        let rare = rareOffsets[index]
        while from < end {
            guard let offset = Self.find(literal, rareOffset: rare, in: base, from: from, end: end) else {
                // A literal cut by the end of the data may complete later.
                cursors[index] = max(from, end - literal.count + 1)
                return nil
            }
            guard pattern.needsExpression else {
                cursors[index] = offset
                return offset..<(offset + literal.count)
            }
            let line = transcript.lineIndex(containing: offset)
            let range = transcript.lineRange(line)
            let complete = transcript.isComplete(line)
            var searchRange = max(position, range.lowerBound)..<max(position, range.lowerBound, range.upperBound)
            if !complete {
                searchRange =
                    max(
                        searchRange.lowerBound, offset - openLineWindow)..<min(
                        searchRange.upperBound, offset + literal.count + openLineWindow)
            }
            if let match = pattern.expressionMatch(in: buffer, line: range, search: searchRange) {
                cursors[index] = match.lowerBound
                return match
            }
            guard complete else {
                cursors[index] = offset
                return nil
            }
            from = line + 1 < transcript.lineCount ? transcript.lineStarts[line + 1] : end
        }
        cursors[index] = end
        return nil
    }
}
