import Foundation

/// A pattern the console waits for: a regular expression matched within one line.
///
/// Matching runs over bytes. The longest literal run every match must contain is found once at
/// compile time and searched with `memmem`; the regular expression runs only on lines that contain
/// it (and patterns that are plain text never run one). Regexes see each byte as one Latin-1
/// character, so offsets are byte offsets and invalid UTF-8 cannot break matching; patterns are
/// expected to be ASCII.
public struct ConsolePattern: Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written.
    public let source: String
    /// Bytes every match contains, searched first; empty when no such run exists.
    let requiredLiteral: [UInt8]
    /// The compiled expression; nil when the pattern is plain text.
    let expression: RegexBox?

    /// A pattern that matches `text` exactly.
    public static func literal(_ text: String) -> ConsolePattern {
        ConsolePattern(source: NSRegularExpression.escapedPattern(for: text), literal: Array(text.utf8), expression: nil)
    }

    /// Compiles a regular expression (ICU syntax).
    public static func regex(_ pattern: String) throws -> ConsolePattern {
        guard !pattern.isEmpty else { throw ConsolePatternError(pattern: pattern, message: "empty pattern") }
        let analysis = LiteralAnalysis(pattern)
        if analysis.isPlainText {
            return ConsolePattern(source: pattern, literal: Array(analysis.longestRun.utf8), expression: nil)
        }
        let compiled: NSRegularExpression
        do {
            compiled = try NSRegularExpression(pattern: pattern)
        } catch {
            throw ConsolePatternError(pattern: pattern, message: "not a valid regular expression")
        }
        return ConsolePattern(source: pattern, literal: Array(analysis.longestRun.utf8), expression: RegexBox(compiled))
    }

    private init(source: String, literal: [UInt8], expression: RegexBox?) {
        self.source = source
        self.requiredLiteral = literal
        self.expression = expression
    }

    public var description: String { source }

    /// The literal every match contains, searched with `memmem`; empty when there is none.
    var literal: [UInt8] { requiredLiteral }

    /// True when matching needs the regular expression (not only the literal).
    var needsExpression: Bool { expression != nil }

    /// The first match of the expression in `search`, a part of the line `line` (byte offsets in
    /// `buffer`). `^` and `$` match only at the line's ends, not at the ends of `search`.
    func expressionMatch(in buffer: UnsafeBufferPointer<UInt8>, line: Range<Int>, search: Range<Int>) -> Range<Int>? {
        guard let expression, !search.isEmpty else { return nil }
        let segment = UnsafeBufferPointer(rebasing: buffer[line])
        // Each byte becomes one UTF-16 unit (Latin-1), so offsets stay byte offsets.
        let text = String(decoding: segment.lazy.map { UInt16($0) }, as: UTF16.self)
        let range = NSRange(location: search.lowerBound - line.lowerBound, length: search.count)
        guard let match = expression.regex.firstMatch(in: text, options: [.withoutAnchoringBounds], range: range),
            match.range.location != NSNotFound, match.range.length > 0
        else { return nil }
        let start = line.lowerBound + match.range.location
        return start..<(start + match.range.length)
    }

    public static func == (lhs: ConsolePattern, rhs: ConsolePattern) -> Bool {
        lhs.source == rhs.source && lhs.requiredLiteral == rhs.requiredLiteral
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(source) }
}

/// A pattern that cannot be compiled.
public struct ConsolePatternError: Error, Sendable, CustomStringConvertible {
    public var pattern: String
    public var message: String
    public var description: String { "pattern '\(pattern)': \(message)" }
}

/// Holds a compiled expression; `NSRegularExpression` is immutable once built.
final class RegexBox: @unchecked Sendable {
    let regex: NSRegularExpression
    init(_ regex: NSRegularExpression) { self.regex = regex }
}

/// Finds the literal runs of a regular expression that every match must contain.
struct LiteralAnalysis {
    /// The longest run of characters that appears, as is, in every match.
    private(set) var longestRun = ""
    /// True when the whole pattern is plain text (no operators once escapes are read).
    private(set) var isPlainText = true

    init(_ pattern: String) {
        let characters = Array(pattern.unicodeScalars)
        // Alternation at any level means no single run is required by every match.
        var depth = 0
        var hasAlternation = false
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\" {
                index += 2
                continue
            }
            if character == "(" { depth += 1 } else if character == ")" { depth -= 1 } else if character == "|" { hasAlternation = true }
            index += 1
        }
        if hasAlternation {
            isPlainText = false
            return
        }
        var runs: [String] = []
        var current = ""
        var insideGroup = 0
        index = 0
        func endRun() {
            if !current.isEmpty { runs.append(current) }
            current = ""
        }
        while index < characters.count {
            let character = characters[index]
            let next: Unicode.Scalar? = index + 1 < characters.count ? characters[index + 1] : nil
            let quantifierFollows: Bool
            var literal: Unicode.Scalar?
            var step = 1
            if character == "\\", let escaped = next {
                step = 2
                let afterEscape: Unicode.Scalar? = index + 2 < characters.count ? characters[index + 2] : nil
                quantifierFollows = afterEscape.map { "*?{+".unicodeScalars.contains($0) } ?? false
                if "[](){}.*+?^$|\\/-#:=!<> '\"".unicodeScalars.contains(escaped) {
                    literal = escaped
                } else {
                    isPlainText = false  // \d, \s, \b, \n ...
                }
            } else {
                quantifierFollows = next.map { "*?{+".unicodeScalars.contains($0) } ?? false
                if "[](){}.*+?^$".unicodeScalars.contains(character) {
                    isPlainText = false
                    if character == "(" { insideGroup += 1 }
                    if character == ")" { insideGroup -= 1 }
                    if character == "[" {
                        // Skip the whole class.
                        var end = index + 1
                        while end < characters.count, characters[end] != "]" { end += characters[end] == "\\" ? 2 : 1 }
                        step = end - index + 1
                    }
                    if character == "{" {
                        var end = index + 1
                        while end < characters.count, characters[end] != "}" { end += 1 }
                        step = end - index + 1
                    }
                } else {
                    literal = character
                }
            }
            if let literal, insideGroup == 0 {
                if quantifierFollows {
                    isPlainText = false
                    let optional =
                        next.map { "*?{".unicodeScalars.contains($0) } ?? false
                        || (character == "\\" && index + 2 < characters.count && "*?{".unicodeScalars.contains(characters[index + 2]))
                    if !optional { current.unicodeScalars.append(literal) }
                    endRun()
                } else {
                    current.unicodeScalars.append(literal)
                }
            } else {
                if insideGroup > 0 { isPlainText = false }
                endRun()
            }
            index += step
        }
        endRun()
        longestRun = runs.max { $0.utf8.count < $1.utf8.count } ?? ""
        if isPlainText { longestRun = runs.joined() }
    }
}
