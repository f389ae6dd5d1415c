import FarmCore
import FarmReports
import Foundation
import Testing

@Suite struct EmailMessageTests {
    /// 2026-03-07 12:00:00 UTC, a Saturday.
    static let date = Date(timeIntervalSince1970: 1_772_884_800)

    static func message(_ report: RegressionReport = SampleReport.report) -> EmailMessage {
        EmailMessage(
            report: report, from: "bootfarm <bootfarm@farm.example>", to: ["kernel-boot-reports@example.org", "lab-admins@example.org"],
            date: date)
    }

    /// The header block, unfolded, as name → value.
    static func headers(_ rendered: String) -> [(String, String)] {
        guard let end = rendered.range(of: "\r\n\r\n") else { return [] }
        let unfolded = rendered[..<end.lowerBound].replacingOccurrences(of: "\r\n ", with: " ")
        return unfolded.components(separatedBy: "\r\n").compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingCharacters(in: .whitespaces))
        }
    }

    static func header(_ name: String, in rendered: String) -> String? {
        headers(rendered).first { $0.0 == name }?.1
    }

    /// Decodes a header value made of RFC 2047 `B` encoded-words separated by white space.
    static func decodeWords(_ value: String) -> String? {
        var bytes = Data()
        for word in value.split(separator: " ") {
            guard word.hasPrefix("=?utf-8?B?"), word.hasSuffix("?="),
                let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))
            else { return nil }
            bytes += data
        }
        return String(data: bytes, encoding: .utf8)
    }

    @Test func messageHasTheHeadersOfAMIMETextMessage() {
        let rendered = Self.message().rendered
        #expect(Self.header("From", in: rendered) == "bootfarm <bootfarm@farm.example>")
        #expect(Self.header("To", in: rendered) == "kernel-boot-reports@example.org, lab-admins@example.org")
        #expect(Self.header("Subject", in: rendered) == TextReport.subject(SampleReport.report))
        #expect(Self.header("Date", in: rendered) == "Sat, 07 Mar 2026 12:00:00 +0000")
        #expect(Self.header("MIME-Version", in: rendered) == "1.0")
        #expect(Self.header("Content-Type", in: rendered) == "text/plain; charset=utf-8")
        let messageID = Self.header("Message-ID", in: rendered) ?? ""
        #expect(messageID.hasPrefix("<") && messageID.hasSuffix(">") && messageID.contains("@"))
        #expect(Self.header("X-Bootfarm-Describe", in: rendered) == SampleReport.report.revision.describe)
    }

    @Test func everyLineEndsInCRLF() {
        let bytes = Array(Self.message().rendered.utf8)
        #expect(bytes.suffix(2) == [13, 10])
        for (index, byte) in bytes.enumerated() {
            if byte == 10 { #expect(index > 0 && bytes[index - 1] == 13, "bare LF at byte \(index)") }
            if byte == 13 { #expect(index + 1 < bytes.count && bytes[index + 1] == 10, "bare CR at byte \(index)") }
        }
    }

    @Test func bodyIsTheTextReport() throws {
        let rendered = Self.message().rendered
        let end = try #require(rendered.range(of: "\r\n\r\n"))
        let body = rendered[end.upperBound...].replacingOccurrences(of: "\r\n", with: "\n")
        #expect(body == TextReport.render(SampleReport.report))
    }

    @Test func messageIDsDiffer() {
        #expect(Self.message().messageID != Self.message().messageID)
    }

    @Test func nonASCIISubjectIsEncodedAsRFC2047Words() throws {
        var report = SampleReport.report
        report.branch = "for-next/übersicht-résumé"
        let rendered = Self.message(report).rendered
        let headerBlock = try #require(rendered.components(separatedBy: "\r\n\r\n").first)
        // Headers are ASCII; each encoded-word is at most 75 characters (RFC 2047 section 2).
        #expect(headerBlock.unicodeScalars.allSatisfy { $0.isASCII })
        let subject = try #require(Self.header("Subject", in: rendered))
        let words = subject.split(separator: " ")
        #expect(words.count > 1)
        #expect(words.allSatisfy { $0.count <= 75 })
        #expect(Self.decodeWords(subject) == TextReport.subject(report))
        #expect(Self.decodeWords(Self.header("X-Bootfarm-Branch", in: rendered) ?? "") == "for-next/übersicht-résumé")
    }

    @Test func headerValuesCannotInjectHeaders() {
        var report = SampleReport.report
        report.branch = "master\r\nBcc: everyone@example.org"
        let rendered = Self.message(report).rendered
        let headerBlock = rendered.components(separatedBy: "\r\n\r\n").first ?? ""
        #expect(!headerBlock.contains("\r\nBcc:"))
        #expect(Self.header("Bcc", in: rendered) == nil)
        #expect(Self.decodeWords(Self.header("X-Bootfarm-Branch", in: rendered) ?? "") == report.branch)
    }

    @Test func longBodyLinesAreCutToNineHundredNinetyEightBytes() throws {
        var history = BootHistory(revisions: 2)
        history.boots(.rock5bLabA, "PF", reason: String(repeating: "ü", count: 800))
        let rendered = Self.message(history.report()).rendered
        for line in rendered.components(separatedBy: "\r\n") {
            #expect(line.utf8.count <= 998)
        }
        #expect(rendered.contains("new failure"))
    }
}
