import FarmCore
import Foundation

/// The text report as a complete RFC 5322 message (UTF-8 body, CRLF line ends).
public struct EmailMessage: Sendable {
    public var from: String
    public var to: [String]
    public var subject: String
    public var body: String
    public var date: Date
    public var messageID: String
    /// Extra headers, such as the tree and revision for mail filters.
    public var headers: [(String, String)]

    public init(report: RegressionReport, from: String, to: [String], date: Date = Date()) {
        self.from = from
        self.to = to
        self.subject = TextReport.subject(report)
        self.body = TextReport.render(report)
        self.date = date
        self.messageID = "<\(UUID().uuidString.lowercased())@bootfarm>"
        self.headers = [
            ("X-Bootfarm-Tree", report.tree), ("X-Bootfarm-Branch", report.branch), ("X-Bootfarm-Describe", report.revision.describe),
        ]
    }

    /// The message as sent: headers, a blank line, the body; every line ends in CRLF.
    public var rendered: String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        var lines = [
            "From: \(from)",
            "To: \(to.joined(separator: ", "))",
            "Subject: \(Self.encodeHeader(subject))",
            "Date: \(formatter.string(from: date))",
            "Message-ID: \(messageID)",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
        ]
        lines += headers.map { "\($0.0): \(Self.encodeHeader($0.1))" }
        lines.append("")
        lines += body.split(separator: "\n", omittingEmptySubsequences: false).map { Self.truncated(String($0), bytes: 998) }
        if lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 2047 encoded-words for header values that are not plain ASCII. An encoded-word may be
    /// at most 75 characters long, so longer values become several, each holding whole characters
    /// (at most 45 bytes of UTF-8, 60 of base64), on folded lines.
    static func encodeHeader(_ value: String) -> String {
        let plain = value.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F }
        if plain { return value }
        var words: [String] = []
        var chunk: [UInt8] = []
        for scalar in value.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?utf-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// `line` cut to at most `bytes` bytes of UTF-8 (RFC 5322 counts a line's length in octets),
    /// never inside a character.
    static func truncated(_ line: String, bytes: Int) -> String {
        guard line.utf8.count > bytes else { return line }
        var result = ""
        var count = 0
        for character in line {
            count += character.utf8.count
            guard count <= bytes else { break }
            result.append(character)
        }
        return result
    }
}
