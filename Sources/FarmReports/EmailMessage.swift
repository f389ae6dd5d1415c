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
        lines += body.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.prefix(998)) }
        if lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 2047 encoded-word for header values that are not plain ASCII.
    static func encodeHeader(_ value: String) -> String {
        let plain = value.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F }
        if plain { return value }
        return "=?utf-8?B?\(Data(value.utf8).base64EncodedString())?="
    }
}
