import FarmCore
import FarmReports
import Foundation
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct AtomFeedTests {
    /// The elements of an XML document, as far as the tests need them.
    final class FeedReader: NSObject, XMLParserDelegate {
        var path: [String] = []
        var entries = 0
        var entryIDs: [String] = []
        var entryTitles: [String] = []
        var entryContents: [String] = []
        var feedID = ""
        var feedUpdated = ""
        var text = ""
        var rootNamespace: String?

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?, qualifiedName: String?,
            attributes: [String: String] = [:]
        ) {
            if path.isEmpty { rootNamespace = attributes["xmlns"] }
            path.append(elementName)
            text = ""
            if path == ["feed", "entry"] { entries += 1 }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            text += string
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            switch path {
            case ["feed", "id"]: feedID = text
            case ["feed", "updated"]: feedUpdated = text
            case ["feed", "entry", "id"]: entryIDs.append(text)
            case ["feed", "entry", "title"]: entryTitles.append(text)
            case ["feed", "entry", "content"]: entryContents.append(text)
            default: break
            }
            path.removeLast()
        }
    }

    static func read(_ xml: String) -> (reader: FeedReader, parsed: Bool, error: String) {
        let parser = XMLParser(data: Data(xml.utf8))
        let reader = FeedReader()
        parser.delegate = reader
        let parsed = parser.parse()
        return (reader, parsed, parser.parserError.map { "\($0)" } ?? "")
    }

    static let updated = Date(timeIntervalSince1970: 1_772_800_000)

    @Test func feedIsWellFormedWithOneEntryPerRegressionAndConflict() {
        let report = SampleReport.report
        let (reader, parsed, error) = Self.read(AtomFeed.render(report, updated: Self.updated))
        #expect(parsed, "\(error)")
        #expect(reader.rootNamespace == "http://www.w3.org/2005/Atom")
        #expect(reader.feedID == "urn:bootfarm:mainline:master")
        #expect(reader.entries == report.regressions.count + report.conflicts.count)
        #expect(reader.entries == 7)
        #expect(Set(reader.entryIDs).count == reader.entryIDs.count)
        #expect(reader.entryIDs.allSatisfy { $0.hasPrefix("urn:bootfarm:") })
        #expect(reader.entryTitles.contains("boot regression on rock5b-1 (lab-a) at \(report.revision.describe)"))
        #expect(reader.entryTitles.contains("kernel_size regression on arm64 defconfig at \(report.revision.describe)"))
    }

    @Test func entryIDsAreStableAcrossRevisionsOfTheSameFailure() {
        // The same failing streak seen at two revisions has the same id: a feed reader shows it once.
        var history = BootHistory(revisions: 4)
        history.boots(.rock5bLabA, "PPFF")
        let first = Self.read(AtomFeed.render(history.report(upTo: 2), updated: Self.updated)).reader.entryIDs
        let second = Self.read(AtomFeed.render(history.report(), updated: Self.updated)).reader.entryIDs
        #expect(first.count == 1)
        #expect(first == second)
    }

    @Test func hostileReasonsAndControlCharactersStayText() {
        var history = BootHistory(revisions: 2)
        history.boots(.rock5bLabA, "PF", reason: "<script>alert(1)</script> \u{1B}[0m\u{0}\u{7}")
        history.boots(.qemuX86, "PF", reason: "\"><img onerror=x> & ]]>")
        let (reader, parsed, error) = Self.read(AtomFeed.render(history.report(), updated: Self.updated))
        #expect(parsed, "\(error)")
        #expect(reader.entries == 2)
        #expect(reader.entryContents.contains { $0.contains("<script>alert(1)</script> [0m") })
        #expect(reader.entryContents.contains { $0.contains("\"><img onerror=x> & ]]>") })
    }

    @Test func feedIsUpdatedAtTheCommitTimeOrElseAtTheTimeGiven() throws {
        let withCommitTime = Self.read(AtomFeed.render(SampleReport.report, updated: Self.updated)).reader
        #expect(withCommitTime.feedUpdated == SampleReport.report.revision.commitTime)

        var report = SampleReport.report
        report.revision.commitTime = nil
        let reader = Self.read(AtomFeed.render(report, updated: Self.updated)).reader
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        let parsed = try #require(formatter.date(from: reader.feedUpdated) ?? plain.date(from: reader.feedUpdated))
        #expect(parsed == Self.updated)
    }

    @Test func feedWithoutRegressionsHasNoEntries() {
        var history = BootHistory(revisions: 2)
        history.boots(.qemuX86, "PP")
        let (reader, parsed, error) = Self.read(AtomFeed.render(history.report(), updated: Self.updated))
        #expect(parsed, "\(error)")
        #expect(reader.entries == 0)
    }
}
