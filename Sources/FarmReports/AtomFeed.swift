import FarmCore
import Foundation

/// The regressions of a report as an Atom feed (RFC 4287): one entry per boot, boot-time, energy,
/// size or warning regression and per conflict, with stable ids so feed readers see news once.
public enum AtomFeed {
    public static func render(_ report: RegressionReport, updated: Date = Date()) -> String {
        let e = MarkupEscaping.escape
        let stamp = report.revision.commitTime ?? ISOTimestamp.format(updated.timeIntervalSince1970)
        var xml = """
            <?xml version="1.0" encoding="utf-8"?>
            <feed xmlns="http://www.w3.org/2005/Atom">
              <title>\(e("\(report.tree)/\(report.branch) boot regressions"))</title>
              <id>\(e("urn:bootfarm:\(report.tree):\(report.branch)"))</id>
              <updated>\(stamp)</updated>
              <author><name>bootfarm</name></author>
              <subtitle>\(e(TextReport.subject(report)))</subtitle>

            """
        for finding in report.regressions + report.conflicts {
            let key = finding.key
            let id =
                "urn:bootfarm:\(finding.kind.rawValue):\(report.tree):\(report.branch):\(key.arch):\(key.defconfig):\(key.compiler):\(key.boardType):\(key.board):\(key.lab):\(finding.firstBad?.describe ?? report.revision.describe)"
            let place = key.board.isEmpty ? "\(key.arch) \(key.defconfig)" : "\(key.board) (\(key.lab))"
            let title = "\(finding.kind.rawValue) regression on \(place) at \(report.revision.describe)"
            xml += """
                  <entry>
                    <id>\(e(id))</id>
                    <title>\(e(title))</title>
                    <updated>\(stamp)</updated>
                    <category term="\(e(finding.kind.rawValue))"/>
                    <content type="text">\(e(HTMLReport.summary(finding) + " — last good: \(finding.lastGood?.describe ?? "none"), first bad: \(finding.firstBad?.describe ?? report.revision.describe)"))</content>
                  </entry>

                """
        }
        return xml + "</feed>\n"
    }
}
