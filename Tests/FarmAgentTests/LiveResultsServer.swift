import FarmServer
import FarmStore
import Foundation
import Hummingbird
import Logging

/// A results server on an ephemeral loopback port over a temporary store, with a token for lab
/// `lab-a`; and a lab store beside it to upload from.
struct LiveResultsServer {
    let folder: String
    /// The server's store.
    let store: ResultStore
    /// The lab's store, whose outbox the tests fill.
    let labStore: ResultStore
    let settings: ServerSettings
    let labToken: APITokenSecret

    init(maximumBodyBytes: Int = 1 << 20) throws {
        folder = NSTemporaryDirectory() + "bootfarm-upload-\(UUID().uuidString)"
        store = try ResultStore(path: folder + "/server.sqlite")
        labStore = try ResultStore(path: folder + "/lab.sqlite")
        settings = ServerSettings(host: "127.0.0.1", port: 0, maximumBodyBytes: maximumBodyBytes)
        labToken = APITokenSecret.generate()
        _ = try store.addToken(secretSHA256: labToken.sha256, role: .lab, lab: "lab-a")
    }

    /// Runs `body` with the live server's base URL, then stops the server and removes both stores.
    func run(_ body: @Sendable (String) async throws -> Void) async throws {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var logger = Logger(label: "bootfarm.upload.tests")
        logger.logLevel = .warning
        let (ports, portInput) = AsyncStream.makeStream(of: Int.self)
        let application = ResultsServer(store: store, settings: settings).application(logger: logger) { portInput.yield($0) }
        let server = Task { try await application.runService() }
        defer { server.cancel() }
        var port = 0
        for await listening in ports {
            port = listening
            break
        }
        try await body("http://127.0.0.1:\(port)")
        server.cancel()
        _ = await server.result
    }
}
