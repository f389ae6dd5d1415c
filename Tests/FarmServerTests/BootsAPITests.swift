import FarmStore
import Foundation
import Testing

@testable import FarmServer

@Suite("Boots API on a live server")
struct BootsAPITests {
    @Test func submittedBootsAreListedNewestFirstAndShownWithTheirLog() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            let submitted = try await client.post(
                [
                    ServerFixture.record(id: "boot-1", startedAt: "2026-01-01T10:00:00Z", log: "U-Boot 2024.01\nLinux version 6.9\n"),
                    ServerFixture.record(id: "boot-2", startedAt: "2026-01-01T11:00:00Z", status: "fail"),
                ], token: fixture.labA)
            #expect(submitted.status == 200, "\(submitted.text)")
            #expect(submitted.json["stored"] as? Int == 2)

            let list = try await client.get("/api/v1/boots")
            #expect(list.status == 200)
            let boots = list.json["boots"] as? [[String: Any]] ?? []
            #expect(boots.map { $0["id"] as? String } == ["boot-2", "boot-1"])
            #expect(list.json["next_cursor"] == nil)

            let one = try await client.get("/api/v1/boots/boot-1")
            #expect(one.status == 200)
            #expect(one.json["log"] as? String == "U-Boot 2024.01\nLinux version 6.9\n")
            #expect(one.json["board"] as? String == "bbb-1")

            let missing = try await client.get("/api/v1/boots/no-such-boot")
            #expect(missing.status == 404)
            #expect(missing.error.contains("no-such-boot"))
        }
    }

    @Test func aListAnsweredBeforeIsNeverServedAfterTheStoreChanged() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            _ = try await client.post([ServerFixture.record(id: "first", startedAt: "2026-01-01T10:00:00Z")], token: fixture.labA)
            let before = try await client.get("/api/v1/boots?limit=5")
            #expect(try await client.get("/api/v1/boots?limit=5").text == before.text)
            _ = try await client.post([ServerFixture.record(id: "second", startedAt: "2026-01-01T11:00:00Z")], token: fixture.labA)
            let after = try await client.get("/api/v1/boots?limit=5")
            #expect((after.json["boots"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["second", "first"])
            // Another writer (a second process, here a second connection) makes it stale too.
            let other = try ResultStore(path: fixture.store.path)
            _ = try other.deleteBoot(id: "first")
            let deleted = try await client.get("/api/v1/boots?limit=5")
            #expect((deleted.json["boots"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["second"])
        }
    }

    @Test func repeatedUploadIsStoredOnce() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            let records = (0..<3).map { ServerFixture.record(id: "boot-\($0)", startedAt: "2026-01-0\($0 + 1)T00:00:00Z") }
            for _ in 0..<3 {
                let reply = try await client.post(records, token: fixture.labA)
                #expect(reply.status == 200, "\(reply.text)")
            }
            // Records without an id get one derived from what identifies them: also stored once.
            var anonymous = ServerFixture.record(id: "", startedAt: "2026-02-01T00:00:00Z")
            anonymous["id"] = nil
            _ = try await client.post([anonymous], token: fixture.labA)
            _ = try await client.post([anonymous], token: fixture.labA)
            #expect(try fixture.store.count() == 4)
        }
    }

    @Test func filtersAndCursorPagesReturnEveryMatchingBootOnce() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            // Two boots share a start time: the id breaks the tie, so paging still sees both.
            var records = (0..<7).map { index in
                ServerFixture.record(
                    id: "boot-\(index)", board: index % 2 == 0 ? "bbb-1" : "rpi-4", startedAt: "2026-01-0\(index + 1)T00:00:00Z",
                    status: index == 3 ? "fail" : "pass")
            }
            records.append(ServerFixture.record(id: "boot-7", board: "bbb-1", startedAt: "2026-01-07T00:00:00Z"))
            #expect(try await client.post(records, token: fixture.admin).status == 200)

            var seen: [String] = []
            var uri = "/api/v1/boots?board=bbb-1&limit=2"
            var pages = 0
            while true {
                let page = try await client.get(uri)
                #expect(page.status == 200, "\(page.text)")
                let boots = page.json["boots"] as? [[String: Any]] ?? []
                #expect(boots.count <= 2)
                seen += boots.compactMap { $0["id"] as? String }
                pages += 1
                guard let cursor = page.json["next_cursor"] as? String, pages < 10 else { break }
                uri = "/api/v1/boots?board=bbb-1&limit=2&cursor=\(cursor)"
            }
            #expect(seen == ["boot-7", "boot-6", "boot-4", "boot-2", "boot-0"])

            let failed = try await client.get("/api/v1/boots?status=fail")
            #expect((failed.json["boots"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["boot-3"])

            let window = try await client.get("/api/v1/boots?since=2026-01-02T00:00:00Z&until=2026-01-04T00:00:00Z")
            #expect((window.json["boots"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["boot-2", "boot-1"])

            let badCursor = try await client.get("/api/v1/boots?cursor=not-a-cursor")
            #expect(badCursor.status == 400)
            #expect(badCursor.json["field"] as? String == "cursor")

            let badLimit = try await client.get("/api/v1/boots?limit=0")
            #expect(badLimit.status == 400)
            #expect(badLimit.error.contains("limit"))

            let badStatus = try await client.get("/api/v1/boots?status=exploded")
            #expect(badStatus.status == 400)
            #expect(badStatus.json["field"] as? String == "status")

            let badSince = try await client.get("/api/v1/boots?since=yesterday")
            #expect(badSince.status == 400)
            #expect(badSince.json["field"] as? String == "since")
        }
    }

    @Test func sqlMetacharactersInFilterValuesAreMatchedLiterally() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            let odd = "bbb'; DROP TABLE boots; --"
            #expect(
                try await client.post(
                    [
                        ServerFixture.record(id: "plain", startedAt: "2026-01-01T00:00:00Z"),
                        ServerFixture.record(id: "odd", board: odd, startedAt: "2026-01-02T00:00:00Z"),
                    ], token: fixture.labA
                ).status == 200)
            let injected = try await client.get("/api/v1/boots?board=x%27%20OR%20%271%27%3D%271")
            #expect(injected.status == 200)
            #expect((injected.json["boots"] as? [[String: Any]])?.isEmpty == true)

            let encoded = odd.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let exact = try await client.get("/api/v1/boots?board=\(encoded)")
            #expect((exact.json["boots"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["odd"])

            let wildcard = try await client.get("/api/v1/boots?lab=%25")
            #expect((wildcard.json["boots"] as? [[String: Any]])?.isEmpty == true)
            #expect(try fixture.store.count() == 2)
        }
    }

    @Test func oversizeBodyIsRefusedWith413() async throws {
        let fixture = try ServerFixture(maximumBodyBytes: 512)
        try await fixture.run { client async throws in
            let records = (0..<20).map { ServerFixture.record(id: "boot-\($0)", startedAt: "2026-01-01T00:00:00Z") }
            let reply = try await client.post(records, token: fixture.labA)
            #expect(reply.status == 413)
            #expect(reply.error.contains("512 bytes"))
            #expect(try fixture.store.count() == 0)
        }
    }

    @Test func malformedJSONIsRefusedWithItsPosition() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            let reply = try await client.request(.post, "/api/v1/boots", token: fixture.labA, body: "[\n  {\"id\": }\n]")
            #expect(reply.status == 400)
            #expect(reply.error.contains("line 2, column 10"), "\(reply.error)")
        }
    }

    @Test func invalidRecordIsRefusedNamingItsFieldAndNothingIsStored() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            var bad = ServerFixture.record(id: "bad", startedAt: "2026-01-01T00:00:00Z")
            bad["status"] = "exploded"
            let reply = try await client.post(
                [ServerFixture.record(id: "good", startedAt: "2026-01-01T00:00:00Z"), bad], token: fixture.labA)
            #expect(reply.status == 400)
            #expect(reply.json["field"] as? String == "[1].status")
            #expect(reply.error.contains("exploded"))

            let notArray = try await client.request(.post, "/api/v1/boots", token: fixture.labA, body: "{}")
            #expect(notArray.status == 400)
            #expect(try fixture.store.count() == 0)
        }
    }
}
