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
            API under /api/v1 (boots, revisions, regressions, boards, labs) and an Atom feed at \
            /feed.atom. Submitting needs a token from 'bootfarm token create'. Stops on SIGTERM or \
            Ctrl-C after answering the requests in flight.
            """)

    @Option(help: "Results store (SQLite file); default under the user's data directory.") var db: String?
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "TCP port (0 picks a free one).") var port = 8080
    @Flag(help: "Reads need a token too.") var `private` = false
    @Option(help: "Largest request body accepted, in bytes.") var maxBodyBytes = 16 << 20

    func validate() throws {
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0 to 65535, not \(port)") }
        if maxBodyBytes < 1 { throw ValidationError("--max-body-bytes must be at least 1") }
    }

    func run() async throws {
        let store = try openStore(db)
        let settings = ServerSettings(host: host, port: port, isPrivate: `private`, maximumBodyBytes: maxBodyBytes)
        var logger = Logger(label: "bootfarm.server")
        logger.logLevel = .warning
        let host = self.host
        let path = store.path
        let application = ResultsServer(store: store, settings: settings).application(logger: logger) { port in
            // Unbuffered, so a script that waits for this line sees it at once.
            FileHandle.standardOutput.write(Data("bootfarm: serving \(path) on http://\(host):\(port)\n".utf8))
        }
        do {
            try await application.runService()
        } catch {
            throw CLIError.infrastructure(
                "the server stopped: \(error)", detail: "is another server on port \(port)? choose one with --port")
        }
    }
}
