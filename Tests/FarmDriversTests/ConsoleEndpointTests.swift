import FarmCore
import FarmDrivers
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Opening consoles: missing devices, files that are not terminals, and TCP (ser2net) endpoints.
@Suite struct ConsoleEndpointTests {
    /// Asserts that opening `endpoint` fails with `ConsoleError.cannotOpen`.
    func expectCannotOpen(_ endpoint: ConsoleEndpoint, sourceLocation: SourceLocation = #_sourceLocation) async {
        let console = StreamConsole(endpoint: endpoint)
        let error = await #expect(throws: ConsoleError.self, sourceLocation: sourceLocation) {
            try await console.open(clock: BootClock())
        }
        guard case .cannotOpen(let location, let reason)? = error else {
            Issue.record("expected ConsoleError.cannotOpen, got \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(location == endpoint.description, sourceLocation: sourceLocation)
        #expect(!reason.isEmpty, sourceLocation: sourceLocation)
    }

    @Test func missingDeviceCannotBeOpened() async {
        await expectCannotOpen(.serial(path: "/dev/ttyUSB-bootfarm-missing-\(getpid())", baud: 115200))
    }

    @Test func regularFileIsNotATerminal() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-tty-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data("plain file\n".utf8)))
        defer { try? FileManager.default.removeItem(atPath: path) }
        await expectCannotOpen(.serial(path: path, baud: 115200))
    }

    @Test func closedLocalPortCannotBeOpened() async throws {
        let listener = try LoopbackListener()
        let port = listener.port
        listener.close()
        await expectCannotOpen(.tcp(host: "127.0.0.1", port: port))
    }

    @Test func tcpConsoleWorksBothWays() async throws {
        let listener = try LoopbackListener()
        let console = StreamConsole(endpoint: .tcp(host: "127.0.0.1", port: listener.port))
        let clock = BootClock()
        try await console.open(clock: clock)
        clock.start()
        let connection = try listener.accept()

        try DescriptorIO.write(Array("Welcome to ser2net\r\nbuildroot login: ".utf8), to: connection)
        let result = try await console.expect([.literal("login: ")], deadline: clock.seconds + 5)
        #expect(result.match?.lineIndex == 1)

        try await console.send("root\n", characterDelayMilliseconds: 0)
        #expect(DescriptorIO.read(from: connection, count: 5) == Array("root\n".utf8))

        // The server hanging up ends the console.
        close(connection)
        await #expect(throws: ConsoleError.self) {
            try await console.expect([.literal("never printed")], deadline: clock.seconds + 5)
        }
        await console.close()
    }
}
