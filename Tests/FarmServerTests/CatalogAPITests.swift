import FarmStore
import Foundation
import Testing

@testable import FarmServer

@Suite("Revisions, regressions, boards, labs and the feed on a live server")
struct CatalogAPITests {
    /// v1 boots on both boards; v2 panics on bbb-1: a boot regression.
    static var history: [[String: Any]] {
        [
            ServerFixture.record(id: "v1-bbb", board: "bbb-1", describe: "v6.8", startedAt: "2026-01-01T00:00:00Z"),
            ServerFixture.record(id: "v1-rpi", lab: "lab-b", board: "rpi-4", describe: "v6.8", startedAt: "2026-01-01T00:10:00Z"),
            ServerFixture.record(id: "v2-bbb", board: "bbb-1", describe: "v6.9", startedAt: "2026-01-02T00:00:00Z", status: "fail"),
            ServerFixture.record(id: "v2-rpi", lab: "lab-b", board: "rpi-4", describe: "v6.9", startedAt: "2026-01-02T00:10:00Z"),
        ]
    }

    @Test func revisionsCarryTheirOutcomeCounts() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            #expect(try await client.post(Self.history, token: fixture.admin).status == 200)
            let reply = try await client.get("/api/v1/revisions?tree=mainline&branch=master")
            #expect(reply.status == 200)
            let revisions = reply.json["revisions"] as? [[String: Any]] ?? []
            #expect(revisions.map { $0["describe"] as? String } == ["v6.8", "v6.9"])
            #expect(revisions.last?["pass"] as? Int == 1)
            #expect(revisions.last?["fail"] as? Int == 1)
            #expect(revisions.last?["error"] as? Int == 0)

            let missing = try await client.get("/api/v1/revisions?tree=mainline")
            #expect(missing.status == 400)
            #expect(missing.json["field"] as? String == "branch")
        }
    }

    @Test func regressionsAndFeedNameTheFailingBoard() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            #expect(try await client.post(Self.history, token: fixture.admin).status == 200)
            let reply = try await client.get("/api/v1/regressions?tree=mainline&branch=master")
            #expect(reply.status == 200, "\(reply.text)")
            let regressions = reply.json["regressions"] as? [[String: Any]] ?? []
            #expect(regressions.count == 1)
            #expect(regressions.first?["board"] as? String == "bbb-1")
            #expect((reply.json["revision"] as? [String: Any])?["describe"] as? String == "v6.9")

            let older = try await client.get("/api/v1/regressions?tree=mainline&branch=master&describe=v6.8")
            #expect((older.json["regressions"] as? [[String: Any]])?.isEmpty == true)

            let unknown = try await client.get("/api/v1/regressions?tree=mainline&branch=master&describe=v1.0")
            #expect(unknown.status == 404)
            #expect(unknown.error.contains("v1.0"))

            let feed = try await client.get("/feed.atom?tree=mainline&branch=master")
            #expect(feed.status == 200)
            #expect(feed.text.contains("<feed xmlns=\"http://www.w3.org/2005/Atom\">"))
            #expect(feed.text.contains("bbb-1"))
        }
    }

    @Test func boardsAndLabsSummariseTheirBoots() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            #expect(try await client.post(Self.history, token: fixture.admin).status == 200)
            let boards = try await client.get("/api/v1/boards").json["boards"] as? [[String: Any]] ?? []
            #expect(boards.map { $0["board"] as? String } == ["bbb-1", "rpi-4"])
            #expect(boards.first?["last_status"] as? String == "fail")
            #expect(boards.first?["boots"] as? Int == 2)

            let labs = try await client.get("/api/v1/labs").json["labs"] as? [[String: Any]] ?? []
            #expect(labs.map { $0["lab"] as? String } == ["lab-a", "lab-b"])
            #expect(labs.first?["boards"] as? Int == 1)
        }
    }
}
