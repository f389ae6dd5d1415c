import FarmCore
import FarmReports
import Foundation
import Testing

@Suite struct JSONReportTests {
    static func parsed(_ report: RegressionReport) throws -> [String: Any] {
        let data = Data(JSONReport.render(report).utf8)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func items(_ object: [String: Any], _ name: String) -> [[String: Any]] {
        object[name] as? [[String: Any]] ?? []
    }

    @Test func reportHasCountsSubjectAndRevisions() throws {
        let report = SampleReport.report
        let object = try Self.parsed(report)
        #expect(object["tree"] as? String == "mainline")
        #expect(object["branch"] as? String == "master")
        #expect(object["subject"] as? String == TextReport.subject(report))
        let counts = try #require(object["counts"] as? [String: Any])
        #expect(counts["boots"] as? Int == 11)
        #expect(counts["passed"] as? Int == 6)
        #expect(counts["failed"] as? Int == 4)
        #expect(counts["errors"] as? Int == 1)
        #expect(counts["boards"] as? Int == 10)
        let revision = try #require(object["revision"] as? [String: Any])
        #expect(revision["describe"] as? String == report.revision.describe)
        #expect(revision["commit"] as? String == report.revision.commit)
        #expect(revision["commit_time"] as? String == report.revision.commitTime)
        #expect((object["previous"] as? [String: Any])?["describe"] as? String == report.previous?.describe)
    }

    @Test func everySectionIsAnArrayOfItemsNamingTheKey() throws {
        let object = try Self.parsed(SampleReport.report)
        let expected: [(String, Int, Set<String>)] = [
            ("regressions", 6, ["boot", "boot_time", "energy", "kernel_size", "warnings"]),
            ("fixed", 1, ["fixed"]),
            ("flaky", 2, ["flaky"]),
            ("conflicts", 1, ["conflict"]),
            ("errors", 1, ["error"]),
            ("failures", 1, ["failure"]),
        ]
        for (name, count, kinds) in expected {
            let items = Self.items(object, name)
            #expect(items.count == count, "\(name)")
            #expect(Set(items.compactMap { $0["kind"] as? String }) == kinds, "\(name)")
            for item in items {
                for field in ["kind", "board", "board_type", "arch", "defconfig", "compiler", "lab", "tree", "branch", "detail"] {
                    #expect(item[field] is String, "\(name).\(field)")
                }
                #expect(item["new"] is Bool, "\(name).new")
            }
        }
    }

    @Test func bootRegressionNamesItsLastGoodAndFirstBadRevisions() throws {
        let history = SampleReport.history
        let object = try Self.parsed(SampleReport.report)
        let regression = try #require(
            Self.items(object, "regressions").first { $0["kind"] as? String == "boot" && $0["board"] as? String == "beaglebone-black-1" })
        #expect(regression["board_type"] as? String == "beaglebone-black")
        #expect(regression["arch"] as? String == "arm")
        #expect(regression["defconfig"] as? String == "multi_v7_defconfig")
        #expect(regression["lab"] as? String == "lab-a")
        #expect(regression["new"] as? Bool == false)
        #expect(regression["detail"] as? String == "timeout in kernel after 60 s")
        let lastGood = try #require(regression["last_good"] as? [String: Any])
        let firstBad = try #require(regression["first_bad"] as? [String: Any])
        #expect(lastGood["describe"] as? String == history.revisions[1].describe)
        #expect(lastGood["commit"] as? String == history.revisions[1].commit)
        #expect(firstBad["describe"] as? String == history.revisions[2].describe)
        #expect(firstBad["commit"] as? String == history.revisions[2].commit)
        #expect(regression["boot_id"] as? String != nil)
    }

    @Test func measuredRegressionCarriesValueUnitAndBaseline() throws {
        let object = try Self.parsed(SampleReport.report)
        let bootTime = try #require(Self.items(object, "regressions").first { $0["kind"] as? String == "boot_time" })
        #expect(bootTime["value"] as? Double == 6.0)
        #expect(bootTime["baseline"] as? Double == 5.0)
        #expect(bootTime["unit"] as? String == "s")
        let size = try #require(Self.items(object, "regressions").first { $0["kind"] as? String == "kernel_size" })
        #expect(size["value"] as? Double == 23_700_000)
        #expect(size["unit"] as? String == "bytes")
        #expect(size["board"] as? String == "")
    }

    @Test func conflictListsTheOtherLabs() throws {
        let object = try Self.parsed(SampleReport.report)
        let conflict = try #require(Self.items(object, "conflicts").first)
        #expect(conflict["lab"] as? String == "lab-a")
        #expect(conflict["other_labs"] as? [String] == ["lab-b"])
    }

    @Test func emptyReportStillHasEveryArray() throws {
        var history = BootHistory(revisions: 1)
        history.boots(.qemuX86, "P")
        let object = try Self.parsed(history.report())
        for name in ["regressions", "fixed", "flaky", "conflicts", "errors", "failures"] {
            #expect((object[name] as? [Any])?.isEmpty == true, "\(name)")
        }
        #expect(object["previous"] == nil)
    }
}
