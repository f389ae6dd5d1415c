import FarmCore
import Foundation

/// A console log prepared for the boot page: one entry per line with its number, kernel
/// timestamp and class (fatal, warning), and the fatal lines and warnings listed for the top.
///
/// Lines are cleaned of terminal control sequences and control bytes here; the template escapes
/// what is left, so no byte of a console can become markup.
struct ConsoleLogView {
    /// Lines shown; a longer log is cut and the page links the raw log.
    static let maximumLines = 20_000

    var lines: [[String: Any]] = []
    var events: [[String: Any]] = []
    var truncatedLines = 0

    init(_ transcript: ConsoleTranscript) {
        var analyzer = LogAnalyzer()
        analyzer.consume(transcript, includingOpenLine: true)
        var kinds: [Int: String] = [:]
        for event in analyzer.analysis.fatalEvents + analyzer.analysis.warnings {
            let kind = event.isFatal ? "fatal" : "warning"
            kinds[event.lineIndex] = kind
            events.append([
                "line": event.lineIndex + 1, "kind": kind, "label": event.kind.rawValue, "message": Self.clean(event.message),
                "time": String(format: "%.3f", event.timeSeconds),
            ])
        }
        events.sort { ($0["line"] as? Int ?? 0) < ($1["line"] as? Int ?? 0) }
        let shown = min(transcript.lineCount, Self.maximumLines)
        truncatedLines = transcript.lineCount - shown
        lines.reserveCapacity(shown)
        for index in 0..<shown {
            let text = Self.clean(transcript.line(index))
            let (timestamp, _) = LogAnalyzer.split(text)
            var line: [String: Any] = ["number": index + 1, "text": text]
            if let timestamp { line["timestamp"] = String(format: "%.6f", timestamp) }
            if let kind = kinds[index] { line["kind"] = kind }
            lines.append(line)
        }
    }

    /// `text` without ANSI escape sequences, carriage returns or other control characters (tab kept).
    static func clean(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar.value {
            case 0x1B:
                // CSI: ESC [ parameters final-byte; other escapes: ESC and one character.
                guard let next = scalars.next(), next == "[" else { continue }
                while let byte = scalars.next(), !(0x40...0x7E).contains(byte.value) {}
            case 0x09: result.append(scalar)
            case 0..<0x20, 0x7F, 0x80..<0xA0, 0xFFFE, 0xFFFF: continue
            default: result.append(scalar)
            }
        }
        return String(result)
    }
}
