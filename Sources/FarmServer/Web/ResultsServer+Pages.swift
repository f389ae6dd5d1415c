import FarmCore
import FarmReports
import FarmStore
import Foundation
import Hummingbird
import NIOCore
import NIOPosix

extension ResultsServer {
    /// The dashboard's routes: pages rendered from `web/templates`, files from `web/static`.
    func addPages(to router: Router<BasicRequestContext>, web: WebAssets) {
        router.get("/") { request, _ in await page(request, web) { try homePage(web) } }
        router.get("/revision") { request, _ in await page(request, web) { try revisionPage(request, web) } }
        router.get("/regressions") { request, _ in await page(request, web) { try regressionsPage(request, web) } }
        router.get("/boots/{id}") { request, context in
            let id = try pathParameter(context, "id")
            return await page(request, web) { try bootPage(id: id, web) }
        }
        router.get("/boots/{id}/log") { request, context in
            let id = try pathParameter(context, "id")
            return try await rawLog(request, id: id)
        }
        router.get("/board") { request, _ in await page(request, web) { try boardPage(request, web) } }
        router.get("/labs") { request, _ in await page(request, web) { try labsPage(web) } }
        router.get("/labs/{name}") { request, context in
            let name = try pathParameter(context, "name")
            return await page(request, web) { try labPage(name: name, web) }
        }
        router.get("/static/{file}") { _, context in try staticFile(try pathParameter(context, "file"), web: web) }
    }

    /// Renders a page off the request's task (store calls block), or the error page when it fails.
    /// A page rendered before is answered from `pages` while the store is unchanged, unless the
    /// request says `Cache-Control: no-cache`.
    func page(_ request: Request, _ web: WebAssets, _ body: @escaping @Sendable () throws -> (String, [String: Any])) async -> Response {
        let html: String
        let status: HTTPResponse.Status
        let key = request.uri.description
        let fresh = (request.headers[.cacheControl] ?? "").contains("no-cache")
        do {
            _ = try reader(request)
            let rendered = try await offload { () throws -> String in
                let stamp = try store.changeStamp()
                if !fresh, let kept = pages.value(key, stamp: stamp) { return kept }
                let (template, context) = try body()
                let html = web.render(template, Self.withChrome(WebFormat.compact(context)))
                pages.keep(html, key: key, stamp: stamp)
                return html
            }
            (html, status) = (rendered, .ok)
        } catch {
            let apiError = APIError.from(error)
            status = apiError.status
            html = web.render(
                "error",
                Self.withChrome(["title": "\(status.code) \(status.reasonPhrase)", "message": apiError.description, "status": status.code]))
        }
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8"]
        headers[.cacheControl] = "no-cache"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    /// What every page's header and footer show.
    static func withChrome(_ context: [String: Any]) -> [String: Any] {
        var context = context
        context["generated"] = WebFormat.time(ISOTimestamp.format(Date().timeIntervalSince1970))
        return context
    }

    /// `GET /static/FILE`: a file of `web/static`, as read when the server started.
    func staticFile(_ name: String, web: WebAssets) throws -> Response {
        guard let file = web.staticFiles[name] else { throw APIError.notFound(message: "no static file '\(name)'") }
        var headers: HTTPFields = [.contentType: file.contentType]
        headers[.cacheControl] = "max-age=300"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: file.data)))
    }

    /// `GET /boots/{id}/log`: the console log as plain text, byte for byte.
    func rawLog(_ request: Request, id: String) async throws -> Response {
        _ = try reader(request)
        let bytes = try await offload { () throws -> [UInt8]? in
            guard try store.boot(id: id) != nil else { return nil }
            return try store.logBytes(bootID: id)
        }
        guard let bytes else { throw APIError.notFound(message: "no boot '\(id)'") }
        var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8"]
        if let noSniff = HTTPFields.Element.Name("X-Content-Type-Options") { headers[noSniff] = "nosniff" }
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    // MARK: Home

    /// Newest revisions of each tree/branch with their counts, and the newest regressions.
    func homePage(_ web: WebAssets) throws -> (String, [String: Any]) {
        var branches: [[String: Any]] = []
        var regressions: [(String, [String: Any])] = []
        for branch in try store.branches() {
            let revisions = try store.revisions(tree: branch.tree, branch: branch.branch).suffix(5).reversed()
            let counts = try store.outcomeCounts(tree: branch.tree, branch: branch.branch, describes: revisions.map(\.describe))
            branches.append([
                "tree": branch.tree, "branch": branch.branch, "revisionCount": branch.revisions,
                "href": WebLinks.branch(tree: branch.tree, branch: branch.branch),
                "regressionsHref": WebLinks.regressions(tree: branch.tree, branch: branch.branch),
                "revisions": revisions.map { revision in
                    Self.revisionRow(revision, counts[revision.describe] ?? OutcomeCounts())
                },
            ])
            // The newest revision by name: the report needs no lookup of its own to find it.
            if let newest = revisions.first, let report = try? report(tree: branch.tree, branch: branch.branch, describe: newest.describe) {
                regressions += WebFormat.findingRows(report, kinds: ["boot", "conflict"]).map { (newest.firstSeen, $0) }
            }
        }
        let newest = regressions.sorted { $0.0 > $1.0 }.prefix(50).map(\.1)
        return ("home", ["title": "Trees and revisions", "branches": branches, "findings": newest, "anyFindings": !newest.isEmpty])
    }

    static func revisionRow(_ revision: StoredRevision, _ counts: OutcomeCounts) -> [String: Any] {
        let total = max(1, counts.total)
        return [
            "describe": revision.describe, "commit": WebFormat.shortCommit(revision.commit),
            "firstSeen": WebFormat.time(revision.firstSeen),
            "href": WebLinks.revision(tree: revision.tree, branch: revision.branch, describe: revision.describe),
            "pass": counts.passed, "fail": counts.failed, "error": counts.errors, "total": counts.total,
            "passWidth": String(format: "%.1f", 100.0 * Double(counts.passed) / Double(total)),
            "failWidth": String(format: "%.1f", 100.0 * Double(counts.failed) / Double(total)),
            "errorWidth": String(format: "%.1f", 100.0 * Double(counts.errors) / Double(total)),
        ]
    }

    // MARK: Revision

    /// One revision: its regressions and conflicts, then its boots by arch, defconfig and board.
    func revisionPage(_ request: Request, _ web: WebAssets) throws -> (String, [String: Any]) {
        let tree = try parameter(request, "tree", required: true) ?? ""
        let branch = try parameter(request, "branch", required: true) ?? ""
        let describe = try parameter(request, "describe").flatMap { $0.isEmpty ? nil : $0 }
        let report = try report(tree: tree, branch: branch, describe: describe)
        let current = report.revision.describe
        let all = try store.revisions(tree: tree, branch: branch)
        let position = all.lastIndex { $0.describe == current } ?? all.count - 1
        let arch = try parameter(request, "arch").flatMap { $0.isEmpty ? nil : $0 }
        let defconfig = try parameter(request, "defconfig").flatMap { $0.isEmpty ? nil : $0 }
        var boots: [BootRecord] = []
        try store.forEachBoot(BootFilter(tree: tree, branch: branch, describes: [current])) { record in
            if (arch ?? record.build.arch) == record.build.arch && (defconfig ?? record.build.defconfig) == record.build.defconfig {
                boots.append(record)
            }
        }
        let listPassing = arch != nil || boots.count <= Self.fullListingLimit
        // Changes on top; failures that are not new, flaky keys and offline boards are counted
        // here and listed on the regressions page (and failing boots are in the list below).
        let findings = WebFormat.findingRows(report, kinds: Self.revisionPageKinds)
        let elsewhere = [
            ("failing, not new", Finding.Kind.failure, report.otherFailures.count), ("flaky", .flaky, report.flaky.count),
            ("offline", .error, report.offline.count),
        ].filter { $0.2 > 0 }.map { label, kind, count -> [String: Any] in
            [
                "label": label, "count": count,
                "href": WebLinks.regressions(tree: tree, branch: branch, describe: current, kind: kind.rawValue),
            ]
        }
        var context: [String: Any] = [
            "title": "\(tree)/\(branch) \(current)",
            "crumbs": [["label": "\(tree)/\(branch)", "href": WebLinks.branch(tree: tree, branch: branch)]],
            "tree": tree, "branch": branch, "describe": current, "commit": report.revision.commit,
            "boots": report.boots, "passed": report.passed, "failed": report.failed, "errors": report.errors, "boards": report.boards,
            "findings": findings, "anyFindings": !findings.isEmpty, "elsewhere": elsewhere,
            "arches": Self.grouped(boots, listPassing: listPassing) { arch, defconfig in
                WebLinks.path(
                    "/revision", [("tree", tree), ("branch", branch), ("describe", current), ("arch", arch), ("defconfig", defconfig)])
            },
            "condensed": !listPassing, "filtered": arch != nil || defconfig != nil,
            "fullHref": WebLinks.revision(tree: tree, branch: branch, describe: current),
            "regressionsHref": WebLinks.regressions(tree: tree, branch: branch, describe: current),
            "feedHref": WebLinks.path("/feed.atom", [("tree", tree), ("branch", branch)]),
            "recent": all.suffix(12).reversed().map { revision -> [String: Any] in
                [
                    "describe": revision.describe, "current": revision.describe == current,
                    "href": WebLinks.revision(tree: tree, branch: branch, describe: revision.describe),
                ]
            },
        ]
        if position > 0 {
            context["previousHref"] = WebLinks.revision(tree: tree, branch: branch, describe: all[position - 1].describe)
        }
        if position + 1 < all.count {
            context["nextHref"] = WebLinks.revision(tree: tree, branch: branch, describe: all[position + 1].describe)
        }
        return ("revision", context)
    }

    /// The findings a revision page lists: what changed at this revision.
    static let revisionPageKinds: Set<String> = Set(
        [Finding.Kind.boot, .conflict, .fixed, .bootTime, .energy, .kernelSize, .warnings].map(\.rawValue))

    /// A revision lists every boot up to this many; a larger one lists the boots that did not pass,
    /// with counts for each group and a link to list a group's boots in full.
    static let fullListingLimit = 300

    /// Boots grouped arch → defconfig → board, each group with its counts. Passing boots are
    /// listed when `listPassing`; otherwise a group links to itself (`groupLink(arch, defconfig)`).
    static func grouped(
        _ boots: [BootRecord], listPassing: Bool, groupLink: (String, String) -> String
    ) -> [[String: Any]] {
        let byArch = Dictionary(grouping: boots) { $0.build.arch }
        return byArch.keys.sorted().map { arch in
            let archBoots = byArch[arch] ?? []
            let byDefconfig = Dictionary(grouping: archBoots) { $0.build.defconfig }
            let notPassing = archBoots.filter { $0.status != .pass }.count
            return [
                "arch": arch, "count": archBoots.count, "failed": notPassing, "anyFailed": notPassing > 0,
                "defconfigs": byDefconfig.keys.sorted().map { defconfig -> [String: Any] in
                    let group = byDefconfig[defconfig] ?? []
                    let shown = (listPassing ? group : group.filter { $0.status != .pass })
                        .sorted { ($0.board, $0.lab, $0.startedAt) < ($1.board, $1.lab, $1.startedAt) }
                    var row: [String: Any] = [
                        "defconfig": defconfig, "count": group.count, "failed": group.count - group.filter { $0.status == .pass }.count,
                        "boots": shown.map(WebFormat.bootRow), "anyShown": !shown.isEmpty,
                    ]
                    if shown.count < group.count {
                        row["hidden"] = group.count - shown.count
                        row["allHref"] = groupLink(arch, defconfig)
                    }
                    return row
                },
            ]
        }
    }

    // MARK: Regressions

    /// Findings of the newest (or chosen) revision of every branch, or of one, filtered by kind.
    func regressionsPage(_ request: Request, _ web: WebAssets) throws -> (String, [String: Any]) {
        let tree = try parameter(request, "tree").flatMap { $0.isEmpty ? nil : $0 }
        let branch = try parameter(request, "branch").flatMap { $0.isEmpty ? nil : $0 }
        let describe = try parameter(request, "describe").flatMap { $0.isEmpty ? nil : $0 }
        let kind = try parameter(request, "kind").flatMap { $0.isEmpty ? nil : $0 }
        if let kind, Finding.Kind(rawValue: kind) == nil {
            throw APIError.invalidField(
                field: "kind", message: "expected one of \(Finding.Kind.allCases.map(\.rawValue).joined(separator: ", ")), found '\(kind)'")
        }
        if describe != nil && (tree == nil || branch == nil) {
            throw APIError.invalidField(field: "describe", message: "a revision needs its tree and branch too")
        }
        let branches = try store.branches()
        var rows: [[String: Any]] = []
        for candidate in branches where (tree ?? candidate.tree) == candidate.tree && (branch ?? candidate.branch) == candidate.branch {
            let report = try report(tree: candidate.tree, branch: candidate.branch, describe: describe)
            rows += WebFormat.findingRows(report, kinds: kind.map { [$0] })
        }
        let trees = Set(branches.map(\.tree)).sorted()
        return (
            "regressions",
            [
                "title": "Regressions", "findings": rows, "anyFindings": !rows.isEmpty, "describe": describe ?? "",
                "trees": trees.map { ["name": $0, "selected": $0 == tree] },
                "branches": Set(branches.map(\.branch)).sorted().map { ["name": $0, "selected": $0 == branch] },
                "kinds": Finding.Kind.allCases.map { ["name": $0.rawValue, "selected": $0.rawValue == kind] },
            ]
        )
    }
}

/// Runs blocking work (SQLite, rendering) on NIO's thread pool, off the tasks that serve requests.
func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await NIOThreadPool.singleton.runIfActive(body)
}
