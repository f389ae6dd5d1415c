import FarmStore
import Foundation
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// `bootfarm token` and `bootfarm serve` as a user runs them.
@Suite("bootfarm serve and bootfarm token", .serialized)
struct ServeCommandTests {
    func freePort() -> Int {
        let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    func get(_ url: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: try #require(URL(string: url)))
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    @Test("token create prints the token last and stores only its hash; list hides secrets; revoke")
    func tokenLifecycle() throws {
        let folder = try Harness.temporaryFolder()
        let database = folder.appendingPathComponent("server.sqlite").path
        let created = try Harness.run(["token", "create", "--lab", "lab-a", "--db", database])
        #expect(created.exitCode == 0, "\(created.standardError)")
        let secret = try #require(created.standardOutput.split(separator: "\n").last.map(String.init))
        #expect(secret.count >= 32)
        for file in [database, database + "-wal"] {
            let raw = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
            #expect(raw.range(of: Data(secret.utf8)) == nil, "the token is stored in clear in \(file)")
        }
        let list = try Harness.run(["token", "list", "--db", database, "--json"])
        #expect(!list.standardOutput.contains(secret))
        #expect(list.standardOutput.contains("\"lab\": \"lab-a\""), "\(list.standardOutput)")
        #expect(try Harness.run(["token", "revoke", "1", "--db", database]).exitCode == 0)
        #expect(try Harness.run(["token", "list", "--db", database, "--json"]).standardOutput.contains("revoked_at"))
    }

    @Test("token create needs exactly one of --lab and --admin")
    func tokenCreateContradiction() throws {
        let database = try Harness.temporaryFolder().appendingPathComponent("server.sqlite").path
        let both = try Harness.run(["token", "create", "--lab", "x", "--admin", "--db", database])
        #expect(both.exitCode == 2)
        #expect(both.standardError.contains("either --lab NAME or --admin"))
        #expect(try Harness.run(["token", "create", "--db", database]).exitCode == 2)
    }

    @Test("serve: bad port, --web with --no-dashboard, and a broken template are usage errors")
    func serveUsageErrors() throws {
        let database = try Harness.temporaryFolder().appendingPathComponent("server.sqlite").path
        let port = try Harness.run(["serve", "--db", database, "--port", "70000"])
        #expect(port.exitCode == 2)
        #expect(port.standardError.contains("--port must be 0 to 65535"))
        let both = try Harness.run(["serve", "--db", database, "--web", "web", "--no-dashboard"])
        #expect(both.exitCode == 2)
        #expect(both.standardError.contains("contradict"))
        let web = try Harness.temporaryFolder().appendingPathComponent("web")
        try FileManager.default.createDirectory(at: web.appendingPathComponent("templates"), withIntermediateDirectories: true)
        try "{{#never}} closed".write(to: web.appendingPathComponent("templates/home.mustache"), atomically: true, encoding: .utf8)
        let broken = try Harness.run(["serve", "--db", database, "--web", web.path, "--port", "0"])
        #expect(broken.exitCode == 2)
        #expect(broken.standardError.contains("home.mustache"), "\(broken.standardError)")
    }

    @Test("serve: prints its address, serves the dashboard and the API, and stops on SIGTERM")
    func serveAnswersAndStops() async throws {
        let folder = try Harness.temporaryFolder()
        let database = folder.appendingPathComponent("server.sqlite").path
        let records = folder.appendingPathComponent("boots.jsonl")
        try """
        {"id":"b1","lab":"lab-a","board":"qemu-1","board_type":"qemu-arm64","tree":"mainline","branch":"master","describe":"v1","started_at":"2026-11-01T00:00:00Z","status":"pass"}

        """.write(to: records, atomically: true, encoding: .utf8)
        #expect(try Harness.run(["results", "import", records.path, "--db", database, "--quiet"]).exitCode == 0)
        let port = freePort()
        let server = try BackgroundAgent(["serve", "--db", database, "--port", "\(port)"], temporaryFolder: folder)
        #expect(server.waitFor("serving the dashboard and API"), "\(server.standardError)")
        #expect(server.standardOutput.contains("http://127.0.0.1:\(port)/"))
        let (status, home) = try await get("http://127.0.0.1:\(port)/")
        #expect(status == 200)
        #expect(home.contains("mainline / master"))
        let (apiStatus, api) = try await get("http://127.0.0.1:\(port)/api/v1/boots")
        #expect(apiStatus == 200 && api.contains("\"b1\""))
        kill(server.process.processIdentifier, SIGTERM)
        #expect(server.waitForExit(seconds: 20) == 0)
    }

    @Test("serve refuses a chunked body over the limit (no Content-Length) with 413 and stores nothing")
    func chunkedOversizeBody() throws {
        let folder = try Harness.temporaryFolder()
        let database = folder.appendingPathComponent("server.sqlite").path
        let token = try #require(
            try Harness.run(["token", "create", "--lab", "lab-a", "--db", database]).standardOutput.split(separator: "\n").last)
        let port = freePort()
        let server = try BackgroundAgent(
            ["serve", "--db", database, "--port", "\(port)", "--max-body-bytes", "1000", "--no-dashboard"], temporaryFolder: folder)
        defer {
            kill(server.process.processIdentifier, SIGTERM)
            _ = server.waitForExit(seconds: 20)
        }
        #expect(server.waitFor("serving the API"), "\(server.standardError)")
        let record =
            #"{"id":"b%d","lab":"lab-a","board":"q","tree":"t","branch":"b","describe":"v","started_at":"2026-11-01T00:00:00Z","status":"pass"}"#
        let body = "[" + (0..<40).map { String(format: record, $0) }.joined(separator: ",") + "]"
        let bodyFile = folder.appendingPathComponent("body.json")
        try body.write(to: bodyFile, atomically: true, encoding: .utf8)
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        curl.arguments = [
            "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", "Transfer-Encoding: chunked",
            "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json", "--data-binary", "@\(bodyFile.path)",
            "http://127.0.0.1:\(port)/api/v1/boots",
        ]
        let output = Pipe()
        curl.standardOutput = output
        try curl.run()
        let code = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        curl.waitUntilExit()
        #expect(code == "413")
        #expect(try ResultStore(path: database).count() == 0)
    }
}
