import ArgumentParser
import FarmServer
import FarmStore
import Foundation
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the results server: labs submit boots, anyone (or, with --private, token holders) reads them.",
        discussion: """
            The dashboard at / (revisions, boots with their console logs and power traces, boards, \
            labs, regressions), the API under /api/v1 (boots, revisions, regressions, boards, labs) \
            and an Atom feed at /feed.atom. Submitting needs a token from 'bootfarm token create'. \
            Stops on SIGTERM or Ctrl-C after answering the requests in flight.
            """)

    @Option(help: "Results store (SQLite file); default under the user's data directory.") var db: String?
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "TCP port (0 picks a free one).") var port = 8080
    @Flag(help: "Reads need a token too.") var `private` = false
    @Option(help: "Largest request body accepted, in bytes.") var maxBodyBytes = 16 << 20
    @Option(help: "The dashboard's folder (templates/ and static/); default: the 'web' folder of the installation.")
    var web: String?
    @Flag(help: "Serve the API only, without the dashboard.") var noDashboard = false

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0 to 65535, not \(port)") }
        if maxBodyBytes < 1 { throw ValidationError("--max-body-bytes must be at least 1") }
        if web != nil && noDashboard { throw ValidationError("--web and --no-dashboard contradict each other: choose one") }
    }

    func run() async throws {
        let store = try openStore(db)
        let settings = ServerSettings(host: host, port: port, isPrivate: `private`, maximumBodyBytes: maxBodyBytes)
        let assets = try await loadDashboard()
        var logger = Logger(label: "bootfarm.server")
        logger.logLevel = .warning
        let host = self.host
        let path = store.path
        let application = ResultsServer(store: store, settings: settings, web: assets).application(logger: logger) { port in
            // Unbuffered, so a script that waits for this line sees it at once.
            let what = assets == nil ? "the API" : "the dashboard and API"
            FileHandle.standardOutput.write(Data("bootfarm: serving \(what) for \(path) on http://\(host):\(port)/\n".utf8))
        }
        do {
            try await application.runService()
        } catch {
            throw CLIError.infrastructure(
                "the server stopped: \(error)", detail: "is another server on port \(port)? choose one with --port")
        }
    }

    /// The dashboard's templates: from --web, else the installation's `web` folder; none with --no-dashboard.
    func loadDashboard() async throws -> WebAssets? {
        if noDashboard { return nil }
        guard let directory = WebAssets.locate(explicit: web) else {
            printError("bootfarm: no dashboard templates found beside the program; serving the API only (point --web at the 'web' folder)")
            return nil
        }
        do {
            return try await WebAssets.load(directory: directory)
        } catch {
            throw CLIError.usage("dashboard templates: \(error)", detail: "fix the template, or serve the API only with --no-dashboard")
        }
    }
}
