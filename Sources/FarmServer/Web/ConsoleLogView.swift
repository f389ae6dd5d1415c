import FarmCore
import FarmReports
import Foundation

/// A console log prepared for the boot page: one entry per line with its number, kernel
/// timestamp and class (fatal, warning), and the fatal lines and warnings listed for the top.
///
/// Lines are cleaned of terminal escape sequences and control bytes and escaped here, so no byte
/// of a console can become markup.
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
            let text = Self.withoutEscapeSequences(transcript.line(index))
            let (timestamp, _) = LogAnalyzer.split(text)
            var line: [String: Any] = ["number": index + 1, "text": MarkupEscaping.escape(text)]
            if let timestamp { line["timestamp"] = String(format: "%.6f", timestamp) }
            if let kind = kinds[index] { line["kind"] = kind }
            lines.append(line)
        }
    }

    /// `text` as page markup: terminal escape sequences removed, then control characters dropped
    /// and `& < > " '` escaped (the template shows it as it is).
    static func clean(_ text: String) -> String {
        MarkupEscaping.escape(withoutEscapeSequences(text))
    }

    static func withoutEscapeSequences(_ text: String) -> String {
        guard text.utf8.contains(0x1B) else { return text }
        return String(decoding: ConsoleText.removingEscapeSequences(Array(text.utf8)), as: UTF8.self)
    }
}
