import FarmStore
import Foundation
import Testing

@testable import FarmServer

@Suite("API tokens and who may do what")
struct AuthTests {
    @Test func writesWithoutAValidTokenAreUnauthorized() async throws {
        let fixture = try ServerFixture()
        let revoked = APITokenSecret.generate()
        let token = try fixture.store.addToken(secretSHA256: revoked.sha256, role: .lab, lab: "lab-a")
        #expect(try fixture.store.revokeToken(id: token.id))
        #expect(try fixture.store.revokeToken(id: token.id) == false)
        try await fixture.run { client async throws in
            let record = [ServerFixture.record(id: "boot-1", startedAt: "2026-01-01T00:00:00Z")]
            let none = try await client.post(record, token: nil)
            #expect(none.status == 401)
            #expect(none.error.contains("Bearer"))

            let unknown = try await client.post(record, token: APITokenSecret.generate())
            #expect(unknown.status == 401)

            let wasRevoked = try await client.post(record, token: revoked)
            #expect(wasRevoked.status == 401)
            #expect(wasRevoked.error.contains("revoked"))

            let notBearer = try await client.request(.post, "/api/v1/boots", authorization: "Basic YTpi", body: "[]")
            #expect(notBearer.status == 401)
            #expect(try fixture.store.count() == 0)
        }
    }

    @Test func labTokenWritesOnlyItsOwnLab() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            let ofB = ServerFixture.record(id: "boot-b", lab: "lab-b", startedAt: "2026-01-01T00:00:00Z")
            let forbidden = try await client.post([ofB], token: fixture.labA)
            #expect(forbidden.status == 403)
            #expect(forbidden.error.contains("lab-b"))
            #expect(try fixture.store.count() == 0)

            #expect(try await client.post([ofB], token: fixture.labB).status == 200)
            // Lab A cannot take lab B's stored boot over by reusing its id with its own lab.
            let takeover = try await client.post(
                [ServerFixture.record(id: "boot-b", lab: "lab-a", startedAt: "2026-01-01T00:00:00Z")], token: fixture.labA)
            #expect(takeover.status == 403)
            #expect(try fixture.store.boot(id: "boot-b")?.lab == "lab-b")

            let deleteOther = try await client.request(.delete, "/api/v1/boots/boot-b", token: fixture.labA)
            #expect(deleteOther.status == 403)
            let deleteAnonymous = try await client.request(.delete, "/api/v1/boots/boot-b")
            #expect(deleteAnonymous.status == 401)
            let deleteOwn = try await client.request(.delete, "/api/v1/boots/boot-b", token: fixture.labB)
            #expect(deleteOwn.status == 200)
            #expect(try fixture.store.count() == 0)
        }
    }

    @Test func adminMayWriteAndDeleteAnyLab() async throws {
        let fixture = try ServerFixture()
        try await fixture.run { client async throws in
            let records = [
                ServerFixture.record(id: "boot-a", lab: "lab-a", startedAt: "2026-01-01T00:00:00Z"),
                ServerFixture.record(id: "boot-c", lab: "lab-c", startedAt: "2026-01-01T00:00:00Z"),
            ]
            #expect(try await client.post(records, token: fixture.admin).status == 200)
            #expect(try await client.request(.delete, "/api/v1/boots/boot-c", token: fixture.admin).status == 200)
            #expect(try await client.request(.delete, "/api/v1/boots/boot-c", token: fixture.admin).status == 404)
            #expect(try fixture.store.count() == 1)
        }
    }

    @Test func privateServerNeedsATokenToRead() async throws {
        let fixture = try ServerFixture(isPrivate: true)
        try await fixture.run { client async throws in
            #expect(try await client.get("/api/v1/boots").status == 401)
            #expect(try await client.get("/api/v1/labs").status == 401)
            #expect(try await client.get("/api/v1/boots", token: fixture.labB).status == 200)
            #expect(try await client.get("/api/v1/boots", token: fixture.admin).status == 200)
        }
        let open = try ServerFixture()
        try await open.run { client async throws in #expect(try await client.get("/api/v1/boots").status == 200) }
    }

    @Test func tokenSecretsAreNeverStoredInClear() throws {
        let fixture = try ServerFixture()
        defer { try? FileManager.default.removeItem(atPath: fixture.folder) }
        var bytes = Data()
        for suffix in ["", "-wal"] {
            bytes += (try? Data(contentsOf: URL(fileURLWithPath: fixture.store.path + suffix))) ?? Data()
        }
        let contents = String(decoding: bytes, as: UTF8.self)
        for secret in [fixture.admin, fixture.labA, fixture.labB] {
            #expect(!contents.contains(secret.text))
            #expect(!contents.contains(String(secret.text.dropFirst(4))))
            #expect(contents.contains(secret.sha256))
        }
        #expect(try fixture.store.tokens().map(\.lab) == [nil, "lab-a", "lab-b"])
    }

    @Test func secretHashIsSHA256OfItsText() {
        // SHA-256("abc") from FIPS 180-4's examples.
        #expect(APITokenSecret(text: "abc").sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        let secret = APITokenSecret.generate()
        #expect(secret.text.hasPrefix("bft_") && secret.text.count == 68)
        #expect(secret != APITokenSecret.generate())
    }
}
