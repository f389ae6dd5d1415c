import FarmServer
import FarmStore
import Foundation
import Hummingbird
import Logging

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A results server on an ephemeral port over a temporary store, with one token of each kind.
struct ServerFixture {
    let folder: String
    let store: ResultStore
    let settings: ServerSettings
    let admin: APITokenSecret
    let labA: APITokenSecret
    let labB: APITokenSecret
    /// The dashboard, when the test looks at pages.
    var web: WebAssets?

    /// The repository's `web` folder.
    static let webDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("web").path

    init(isPrivate: Bool = false, maximumBodyBytes: Int = 1 << 20) throws {
        folder = NSTemporaryDirectory() + "bootfarm-server-\(UUID().uuidString)"
        store = try ResultStore(path: folder + "/results.sqlite")
        settings = ServerSettings(host: "127.0.0.1", port: 0, isPrivate: isPrivate, maximumBodyBytes: maximumBodyBytes)
        admin = APITokenSecret.generate()
        labA = APITokenSecret.generate()
        labB = APITokenSecret.generate()
        _ = try store.addToken(secretSHA256: admin.sha256, role: .admin, lab: nil)
        _ = try store.addToken(secretSHA256: labA.sha256, role: .lab, lab: "lab-a")
        _ = try store.addToken(secretSHA256: labB.sha256, role: .lab, lab: "lab-b")
    }

    /// Runs `body` against the live server (on an ephemeral loopback port), then stops it and
    /// removes the store.
    func run(_ body: @Sendable (Client) async throws -> Void) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var logger = Logger(label: "bootfarm.server.tests")
        logger.logLevel = .warning
        let (ports, portInput) = AsyncStream.makeStream(of: Int.self)
        let application = ResultsServer(store: store, settings: settings, web: web).application(logger: logger) { port in
            portInput.yield(port)
        }
        let server = Task { try await application.runService() }
        defer { server.cancel() }
        var port = 0
        for await listening in ports {
            port = listening
            break
        }
        try await body(Client(base: "http://127.0.0.1:\(port)"))
        server.cancel()
        _ = await server.result
    }

    /// A thin client over URLSession: JSON in, status and text out.
    struct Client: Sendable {
        let base: String

        func request(
            _ method: HTTPRequest.Method, _ uri: String, token: APITokenSecret? = nil, authorization: String? = nil, body: String? = nil
        ) async throws -> Reply {
            guard let url = URL(string: base + uri) else { throw URLError(.badURL) }
            var request = URLRequest(url: url)
            request.httpMethod = method.rawValue
            if let token { request.setValue("Bearer \(token.text)", forHTTPHeaderField: "Authorization") }
            if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
            if let body {
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.httpBody = Data(body.utf8)
            }
            let (data, response) = try await URLSession.shared.data(for: request)
            return Reply(status: (response as? HTTPURLResponse)?.statusCode ?? 0, text: String(decoding: data, as: UTF8.self))
        }

        func get(_ uri: String, token: APITokenSecret? = nil) async throws -> Reply {
            try await request(.get, uri, token: token)
        }

        func post(_ records: [[String: Any]], token: APITokenSecret?) async throws -> Reply {
            let data = try JSONSerialization.data(withJSONObject: records)
            return try await request(.post, "/api/v1/boots", token: token, body: String(decoding: data, as: UTF8.self))
        }
    }

    struct Reply: Sendable {
        var status: Int
        var text: String

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        }

        var error: String { json["error"] as? String ?? "" }
    }

    /// A boot record in the import format.
    static func record(
        id: String, lab: String = "lab-a", board: String = "bbb-1", describe: String = "v6.9", startedAt: String,
        status: String = "pass", log: String? = nil
    ) -> [String: Any] {
        var record: [String: Any] = [
            "id": id, "lab": lab, "board": board, "board_type": "beaglebone-black", "arch": "arm", "defconfig": "multi_v7_defconfig",
            "tree": "mainline", "branch": "master", "describe": describe, "started_at": startedAt, "status": status,
        ]
        if status != "pass" {
            record["stage"] = "kernel"
            record["reason"] = "kernel panic: Attempted to kill init!"
        }
        record["log"] = log
        return record
    }
}
