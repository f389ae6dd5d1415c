import FarmCore
import FarmReports
import FarmStore
import Hummingbird

extension ResultsServer {
    /// `GET /api/v1/revisions?tree=&branch=`: revisions oldest first with pass/fail/error counts.
    func listRevisions(_ request: Request) throws -> Response {
        _ = try reader(request)
        let tree = try parameter(request, "tree", required: true) ?? ""
        let branch = try parameter(request, "branch", required: true) ?? ""
        let revisions = try store.revisionSummaries(tree: tree, branch: branch).map { summary -> [String: Any] in
            var object: [String: Any] = [
                "tree": summary.revision.tree, "branch": summary.revision.branch, "describe": summary.revision.describe,
                "commit": summary.revision.commit, "first_seen": summary.revision.firstSeen,
                "pass": summary.counts.passed, "fail": summary.counts.failed, "error": summary.counts.errors,
            ]
            object["commit_time"] = summary.revision.commitTime
            return object
        }
        return JSONResponse.make(["revisions": revisions])
    }

    /// `GET /api/v1/regressions?tree=&branch=[&describe=]`: the regression report as `bootfarm report --json` prints it.
    func regressions(_ request: Request) throws -> Response {
        _ = try reader(request)
        let report = try buildReport(request)
        return JSONResponse.text(JSONReport.render(report), contentType: "application/json")
    }

    /// `GET /feed.atom?tree=&branch=`: the regressions of the newest revision as an Atom feed.
    func feed(_ request: Request) throws -> Response {
        _ = try reader(request)
        let report = try buildReport(request)
        return JSONResponse.text(AtomFeed.render(report), contentType: "application/atom+xml; charset=utf-8")
    }

    /// `GET /api/v1/boards`: every board with boots, with its newest boot's time and status.
    func listBoards(_ request: Request) throws -> Response {
        _ = try reader(request)
        let boards = try store.boardSummaries().map { board -> [String: Any] in
            [
                "lab": board.lab, "board": board.board, "board_type": board.boardType, "boots": board.boots,
                "last_boot_at": board.lastBootAt, "last_status": board.lastStatus,
            ]
        }
        return JSONResponse.make(["boards": boards])
    }

    /// `GET /api/v1/labs`: every lab with boots, and its health: boards whose newest boot was an
    /// infrastructure error, and where the lab's agent records them here, board states and heartbeat.
    func listLabs(_ request: Request) throws -> Response {
        _ = try reader(request)
        let labs = try store.labSummaries().map { lab -> [String: Any] in
            let health = try labHealth(lab)
            return ["lab": lab.lab, "boards": lab.boards, "boots": lab.boots, "last_boot_at": lab.lastBootAt, "health": health.json]
        }
        return JSONResponse.make(["labs": labs])
    }

    /// A lab's health as the store knows it.
    func labHealth(_ lab: LabSummary) throws -> (status: String, json: [String: Any]) {
        var states: [String: Int] = [:]
        for status in try store.boardStatuses(lab: lab.lab).values { states[status.state.rawValue, default: 0] += 1 }
        let degraded = lab.boardsInError > 0 || (states["offline"] ?? 0) > 0
        var json: [String: Any] = ["status": degraded ? "degraded" : "ok", "boards_in_error": lab.boardsInError]
        if !states.isEmpty { json["board_states"] = states }
        if let agent = try store.agent(lab: lab.lab) { json["agent_heartbeat"] = agent.heartbeat }
        return (degraded ? "degraded" : "ok", json)
    }

    private func buildReport(_ request: Request) throws -> RegressionReport {
        let tree = try parameter(request, "tree", required: true) ?? ""
        let branch = try parameter(request, "branch", required: true) ?? ""
        let describe = try parameter(request, "describe").flatMap { $0.isEmpty ? nil : $0 }
        return try report(tree: tree, branch: branch, describe: describe)
    }

    /// The report of `describe` (default: the newest revision) of `tree`/`branch`, kept until
    /// the store changes. The newest revision is named before the lookup, so that asking for it
    /// by name or by default shares one report.
    func report(tree: String, branch: String, describe: String?) throws -> RegressionReport {
        let describe = try describe ?? store.revisions(tree: tree, branch: branch).last?.describe
        let key = [tree, branch, describe ?? ""].joined(separator: "\u{0}")
        let stamp = try store.changeStamp()
        if let kept = reports.value(key, stamp: stamp) { return kept }
        let report = try ReportBuilder(store: store).build(tree: tree, branch: branch, describe: describe)
        reports.keep(report, key: key, stamp: stamp)
        return report
    }
}
