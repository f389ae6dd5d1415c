import FarmCore
import FarmReports
import FarmStore
import Foundation
import Hummingbird

extension ResultsServer {
    // MARK: Boot

    /// One boot: its metadata, stage timeline, power trace, tests and console log.
    func bootPage(id: String, _ web: WebAssets) throws -> (String, [String: Any]) {
        guard let record = try store.boot(id: id) else { throw APIError.notFound(message: "no boot '\(id)'") }
        let log = try store.log(bootID: id)
        let power = try store.power(bootID: id)
        let stages = Stage.allCases.compactMap { stage in record.stageTimes[stage].map { (stage, $0) } }.sorted { $0.1 < $1.1 }
        let end = record.finishedAt.flatMap(ISOTimestamp.epochSeconds).flatMap { finished in
            ISOTimestamp.epochSeconds(record.startedAt).map { finished - $0 }
        }
        var context = WebFormat.bootRow(record)
        let revision = record.revision
        context["title"] = "\(record.board) \(record.status.rawValue) on \(revision.describe)"
        context["crumbs"] = [
            ["label": "\(revision.tree)/\(revision.branch)", "href": WebLinks.branch(tree: revision.tree, branch: revision.branch)],
            [
                "label": revision.describe,
                "href": WebLinks.revision(tree: revision.tree, branch: revision.branch, describe: revision.describe),
            ],
        ]
        context["commit"] = revision.commit
        context["finishedAt"] = WebFormat.time(record.finishedAt)
        context["kernelSize"] = record.build.kernelImageSizeBytes.map { "\($0) bytes" } ?? ""
        context["averagePower"] = record.averagePowerWatts.map { String(format: "%.2f W", $0) } ?? ""
        context["peakPower"] = record.peakPowerWatts.map { String(format: "%.2f W", $0) } ?? ""
        context["anyStages"] = !stages.isEmpty
        context["stages"] = stages.map { ["stage": $0.0.rawValue, "at": String(format: "%.2f s", $0.1)] }
        context["timeline"] = SVGChart.stageTimeline(stages, end: end ?? stages.last?.1 ?? 0)
        if let power, power.trace.count > 1 {
            context["powerChart"] = SVGChart.powerTrace(power.trace, stages: stages)
            context["powerSamples"] = power.trace.count
            context["lostSamples"] = power.lostSamples
            context["powerWarnings"] = power.warnings
        }
        let tests = try store.tests(bootID: id)
        context["tests"] = tests.map { test -> [String: Any] in
            ["name": test.name, "result": test.result.rawValue, "detail": test.measurement.map { "\($0)" } ?? ""]
        }
        context["anyTests"] = !tests.isEmpty
        if let log {
            let view = ConsoleLogView(log)
            context["lines"] = view.lines
            context["anyLines"] = !view.lines.isEmpty
            context["events"] = view.events
            context["anyEvents"] = !view.events.isEmpty
            context["truncatedLines"] = view.truncatedLines > 0 ? view.truncatedLines : nil
            context["logBytes"] = log.bytes.count
        }
        context["rawLogHref"] = WebLinks.boot(id) + "/log"
        return ("boot", context)
    }

    // MARK: Board

    /// One board: its health, boot-time and energy trends, and its history a page at a time.
    func boardPage(_ request: Request, _ web: WebAssets) throws -> (String, [String: Any]) {
        let lab = try parameter(request, "lab", required: true) ?? ""
        let board = try parameter(request, "board", required: true) ?? ""
        var query = BootQuery()
        query.equal = [.lab: lab, .board: board]
        query.limit = 50
        if let token = try parameter(request, "cursor"), !token.isEmpty {
            guard let cursor = BootCursor(token: token) else {
                throw APIError.invalidField(field: "cursor", message: "not a cursor this server gave out; follow the page's 'older' link")
            }
            query.after = cursor
        }
        let page = try store.boots(query)
        if page.boots.isEmpty && query.after == nil { throw APIError.notFound(message: "no boots of board '\(board)' in lab '\(lab)'") }
        var trendQuery = BootQuery()
        trendQuery.equal = [.lab: lab, .board: board]
        trendQuery.limit = 100
        let recent = try store.boots(trendQuery).boots.reversed()
        func points(_ value: (BootRecord) -> Double?) -> [SVGChart.Point] {
            recent.compactMap { record in
                value(record).map { measured in
                    SVGChart.Point(
                        value: measured, label: "\(record.revision.describe): \(String(format: "%.2f", measured))",
                        href: WebLinks.boot(record.id), status: record.status.rawValue)
                }
            }
        }
        var context: [String: Any] = [
            "title": "Board \(board)", "crumbs": [["label": "lab \(lab)", "href": WebLinks.lab(lab)]],
            "lab": lab, "labHref": WebLinks.lab(lab), "board": board, "boots": page.boots.map(WebFormat.bootRow),
            "bootTimeChart": SVGChart.trend(points(\.bootTimeSeconds), unit: "s", title: "Boot time over the last boots"),
            "energyChart": SVGChart.trend(points(\.energyJoules), unit: "J", title: "Energy per boot over the last boots"),
            "boardType": page.boots.first?.boardType ?? "",
        ]
        if let next = page.next {
            context["olderHref"] = WebLinks.path("/board", [("lab", lab), ("board", board), ("cursor", next.token)])
        }
        if query.after != nil { context["newestHref"] = WebLinks.board(lab: lab, board: board) }
        if let status = try store.boardStatus(lab: lab, board: board) {
            context["state"] = status.state.rawValue
            context["health"] = status.health.rawValue
            context["note"] = status.note
        }
        return ("board", context)
    }

    // MARK: Labs

    /// Every lab with its boards and boots, and whether its agent is alive.
    func labsPage(_ web: WebAssets) throws -> (String, [String: Any]) {
        let labs = try store.labSummaries().map { lab -> [String: Any] in
            [
                "lab": lab.lab, "href": WebLinks.lab(lab.lab), "boards": lab.boards, "boots": lab.boots,
                "lastBootAt": WebFormat.time(lab.lastBootAt), "health": try labHealth(lab).status, "inError": lab.boardsInError,
            ]
        }
        return ("labs", ["title": "Labs", "labs": labs, "anyLabs": !labs.isEmpty])
    }

    /// One lab: each board's newest boot and, where the lab's agent records them, state and health.
    func labPage(name: String, _ web: WebAssets) throws -> (String, [String: Any]) {
        let boards = try store.boardSummaries(lab: name)
        let statuses = try store.boardStatuses(lab: name)
        guard !boards.isEmpty || !statuses.isEmpty else { throw APIError.notFound(message: "no lab '\(name)'") }
        let names = Set(boards.map(\.board)).union(statuses.keys).sorted()
        let rows = names.map { board -> [String: Any] in
            var row: [String: Any] = ["board": board, "href": WebLinks.board(lab: name, board: board)]
            if let summary = boards.first(where: { $0.board == board }) {
                row["boardType"] = summary.boardType
                row["boots"] = summary.boots
                row["lastBootAt"] = WebFormat.time(summary.lastBootAt)
                row["lastStatus"] = summary.lastStatus
            }
            if let status = statuses[board] {
                row["state"] = status.state.rawValue
                row["health"] = status.health.rawValue
                row["job"] = status.currentJob.map { "job \($0)" }
                row["note"] = status.note
            }
            return row
        }
        var context: [String: Any] = ["title": "Lab \(name)", "crumbs": [["label": "labs", "href": "/labs"]], "lab": name, "boards": rows]
        if let agent = try store.agent(lab: name) {
            context["agent"] = [
                "pid": Int(agent.pid), "startedAt": WebFormat.time(agent.startedAt), "heartbeat": WebFormat.time(agent.heartbeat),
            ]
        }
        return ("lab", context)
    }
}
