import FarmDrivers
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct PDUDaemonPowerSwitchTests {
    static let qemuInstalled = ChildProcess.locate("qemu-system-aarch64") != nil

    @Test func requestTargetsFollowPDUDaemonsHTTPAPI() {
        var power = PDUDaemonPowerSwitch(server: "pdu-server", pduHostname: "rack 2/pdu", outlet: 7)
        #expect(power.serverPort == 16421)
        #expect(power.serverName == "pdudaemon at pdu-server:16421")
        #expect(power.target(for: .on) == "/power/control/on?hostname=rack%202%2Fpdu&port=7")
        #expect(power.target(for: .off) == "/power/control/off?hostname=rack%202%2Fpdu&port=7")
        #expect(power.target(for: .reboot) == "/power/control/reboot?hostname=rack%202%2Fpdu&port=7")
        power.rebootDelaySeconds = 10
        #expect(power.target(for: .reboot) == "/power/control/reboot?hostname=rack%202%2Fpdu&port=7&delay=10")
        #expect(power.target(for: .on) == "/power/control/on?hostname=rack%202%2Fpdu&port=7", "delay only for reboot")
        #expect(PDUDaemonPowerSwitch(server: "::1", pduHostname: "p", outlet: 1).serverName == "pdudaemon at [::1]:16421")
    }

    @Test func stateIsUnknownWithoutAskingTheServer() async throws {
        // Port 1 on loopback refuses; state() must not even try.
        let power = PDUDaemonPowerSwitch(serverPort: 1, pduHostname: "pdu1", outlet: 1)
        #expect(try await power.state() == .unknown)
    }

    @Test(.timeLimit(.minutes(1))) func sendsOneGETAndReportsANon200AnswerWithoutRetrying() async throws {
        let listener = try LoopbackListener()
        let power = PDUDaemonPowerSwitch(
            server: "127.0.0.1", serverPort: listener.port, pduHostname: "pdu 1", outlet: 3, attempts: 3, retryDelaySeconds: 0.05)
        let listening = listener.descriptor
        async let request = Self.serveOnce(
            listening: listening,
            answer: "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 16\r\nConnection: close\r\n\r\nInvalid request\n")
        let error = await #expect(throws: PowerError.self) { try await power.off() }
        let received = try await request
        let lines = received.components(separatedBy: "\r\n")
        #expect(lines.first == "GET /power/control/off?hostname=pdu%201&port=3 HTTP/1.1")
        #expect(lines.contains("Host: 127.0.0.1:\(listener.port)"))
        #expect(lines.contains("Connection: close"))
        guard case .unexpectedAnswer(let what, let answer)? = error else {
            Issue.record("expected PowerError.unexpectedAnswer, got \(String(describing: error))")
            return
        }
        #expect(what == "pdudaemon at 127.0.0.1:\(listener.port), off for PDU pdu 1 outlet 3")
        #expect(answer == "HTTP 503 Service Unavailable: Invalid request")
        #expect(throws: TestIOError.self, "an HTTP answer is final: no second connection") {
            try listener.accept(timeoutSeconds: 0.3)
        }
    }

    @Test(.timeLimit(.minutes(1))) func acceptsAChunked200Answer() async throws {
        let listener = try LoopbackListener()
        let power = PDUDaemonPowerSwitch(server: "127.0.0.1", serverPort: listener.port, pduHostname: "pdu1", outlet: 1)
        let listening = listener.descriptor
        async let request = Self.serveOnce(
            listening: listening,
            answer: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nOK - a\r\n10\r\nccepted request\n\r\n0\r\n\r\n",
            closeAfterwards: false)
        let started = ContinuousClock.now
        try await power.on()
        #expect(ContinuousClock.now - started < .seconds(5), "done at the last chunk, not when the server hangs up")
        #expect(try await request.hasPrefix("GET /power/control/on?hostname=pdu1&port=1 HTTP/1.1\r\n"))
    }

    @Test(.timeLimit(.minutes(1))) func refusedConnectionNamesTheServerAfterEveryAttempt() async throws {
        let listener = try LoopbackListener()
        let port = listener.port
        listener.close()
        let power = PDUDaemonPowerSwitch(
            server: "127.0.0.1", serverPort: port, pduHostname: "pdu1", outlet: 2, attempts: 2, retryDelaySeconds: 0.05)
        let error = await #expect(throws: PowerError.self) { try await power.on() }
        guard case .unexpectedAnswer(let what, let answer)? = error else {
            Issue.record("expected PowerError.unexpectedAnswer, got \(String(describing: error))")
            return
        }
        #expect(what == "pdudaemon at 127.0.0.1:\(port), on for PDU pdu1 outlet 2 (attempt 2 of 2)")
        #expect(answer == "cannot connect: Connection refused")
    }

    @Test(.timeLimit(.minutes(1))) func silentServerTimesOutOnEveryAttempt() async throws {
        // The kernel completes the handshake for the listen backlog: connected, but never answered.
        let listener = try LoopbackListener()
        let power = PDUDaemonPowerSwitch(
            server: "127.0.0.1", serverPort: listener.port, pduHostname: "pdu1", outlet: 4, answerTimeoutSeconds: 0.3,
            attempts: 2, retryDelaySeconds: 0.05)
        let started = ContinuousClock.now
        let error = await #expect(throws: PowerError.self) { try await power.cycle() }
        #expect(ContinuousClock.now - started < .seconds(10))
        guard case .timeout(let what, let seconds)? = error else {
            Issue.record("expected PowerError.timeout, got \(String(describing: error))")
            return
        }
        #expect(what == "pdudaemon at 127.0.0.1:\(listener.port), reboot for PDU pdu1 outlet 4 (attempt 2 of 2): waiting for the answer")
        #expect(seconds == 0.3)
        // Both attempts connected; a third never came.
        let first = try listener.accept(timeoutSeconds: 1)
        let second = try listener.accept(timeoutSeconds: 1)
        Glibc.close(first)
        Glibc.close(second)
        #expect(throws: TestIOError.self) { try listener.accept(timeoutSeconds: 0.2) }
    }

    @Test(
        .enabled(if: PDUDaemonServer.isInstalled, "needs pdudaemon: python3 -m pip install pdudaemon"),
        .enabled(if: qemuInstalled, "needs qemu-system-aarch64"),
        .timeLimit(.minutes(2)))
    func realPDUDaemonPowersAQEMUBoardOnAndOff() async throws {
        let folder = try TemporaryFolder()
        // localcmdline formats its commands with Python's `%` and the outlet as a string: `%s`.
        let pidFile = folder.file("qemu-%s.pid")
        let qemu = [
            "qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a57", "-m", "256", "-display", "none",
            "-monitor", "none", "-serial", "none", "-S", "-daemonize", "-pidfile", pidFile,
        ]
        let pdus: [String: Any] = [
            "qemu-pdu": [
                "driver": "localcmdline", "retries": 2, "retrydelay": 1,
                "cmd_on": qemu.joined(separator: " "),
                "cmd_off": "kill $(cat \(pidFile))",
            ]
        ]
        let server = try await PDUDaemonServer.start(in: folder, pdus: pdus)
        do {
            try await Self.switchQEMU(through: server, pidFile: folder.file("qemu-3.pid"))
        } catch {
            await Self.cleanUp(server: server, folder: folder)
            throw error
        }
        await Self.cleanUp(server: server, folder: folder)
    }

    /// Powers outlet 3 of `qemu-pdu` on, off, through a reboot and off again; then asks for a PDU
    /// pdudaemon does not know.
    static func switchQEMU(through server: PDUDaemonServer, pidFile: String) async throws {
        var power = PDUDaemonPowerSwitch(server: "127.0.0.1", serverPort: server.port, pduHostname: "qemu-pdu", outlet: 3)
        power.rebootDelaySeconds = 1

        try await power.on()
        let pid = try await waitForQEMU(pidFile: pidFile, server: server)
        #expect(try await power.state() == .unknown)

        try await power.off()
        #expect(await waitUntilGone(pid), "QEMU \(pid) still runs after off(); pdudaemon log: \(server.logTail())")

        // A reboot is off (nothing to stop), pdudaemon's delay, on: a new QEMU.
        try await power.cycle()
        let rebooted = try await waitForQEMU(pidFile: pidFile, server: server)
        #expect(rebooted != pid)
        try await power.off()
        #expect(await waitUntilGone(rebooted), "QEMU \(rebooted) still runs after off()")

        // pdudaemon refuses a PDU its configuration does not name, with 500 and a body.
        let unknown = PDUDaemonPowerSwitch(server: "127.0.0.1", serverPort: server.port, pduHostname: "no-such-pdu", outlet: 1)
        let error = await #expect(throws: PowerError.self) { try await unknown.on() }
        guard case .unexpectedAnswer(let what, let answer)? = error else {
            Issue.record("expected PowerError.unexpectedAnswer, got \(String(describing: error))")
            return
        }
        #expect(what == "pdudaemon at 127.0.0.1:\(server.port), on for PDU no-such-pdu outlet 1")
        #expect(answer == "HTTP 500 Internal Server Error: Invalid request")
    }

    // MARK: - Helpers

    /// Accepts one connection on the `listening` socket, reads the request head, writes `answer`;
    /// returns the request. Takes the descriptor, not the listener: it runs in a child task.
    static func serveOnce(listening: Int32, answer: String, closeAfterwards: Bool = true) async throws -> String {
        try await Task.detached {
            var poller = pollfd(fd: listening, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 10_000) == 1 else { throw TestIOError(operation: "accept (nobody connected)", code: ETIMEDOUT) }
            let connection = Glibc.accept(listening, nil, nil)
            guard connection >= 0 else { throw TestIOError(operation: "accept", code: errno) }
            defer { Glibc.close(connection) }
            var request: [UInt8] = []
            while !request.suffix(4).elementsEqual([13, 10, 13, 10]) {
                let byte = DescriptorIO.read(from: connection, count: 1, timeoutSeconds: 5)
                guard !byte.isEmpty else { break }
                request += byte
            }
            try DescriptorIO.write(Array(answer.utf8), to: connection)
            if !closeAfterwards {
                // Hold the connection open: the client must stop at the last chunk by itself.
                _ = DescriptorIO.read(from: connection, count: 1, timeoutSeconds: 10)
            }
            return String(decoding: request, as: UTF8.self)
        }.value
    }

    /// Waits for QEMU's pid file and a live QEMU process behind it.
    static func waitForQEMU(pidFile: String, server: PDUDaemonServer) async throws -> Int32 {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), isAlive(pid),
                let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                command.hasPrefix("qemu-system-aarch64")
            {
                return pid
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw PowerError.timeout(what: "QEMU started by pdudaemon (log: \(server.logTail()))", seconds: 30)
    }

    /// Waits up to 30 s for `pid` to end; true if it did.
    static func waitUntilGone(_ pid: Int32) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while isAlive(pid) {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return true
    }

    /// True while `pid` runs. A daemonized QEMU is nobody's child here, so nobody may reap it:
    /// a zombie counts as gone.
    static func isAlive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0 else { return false }
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return false }
        return !stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z")
    }

    /// Stops pdudaemon and every QEMU this test started, whatever happened.
    static func cleanUp(server: PDUDaemonServer, folder: TemporaryFolder) async {
        await server.stop()
        var pids: Set<Int32> = []
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for file in files where file.hasPrefix("qemu-") && file.hasSuffix(".pid") {
            if let text = try? String(contentsOfFile: folder.file(file), encoding: .utf8),
                let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                pids.insert(pid)
            }
        }
        for pid in pids where isAlive(pid) {
            if let command = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                command.hasPrefix("qemu-system-aarch64")
            {
                kill(pid, SIGKILL)
            }
        }
    }
}

/// A real pdudaemon (from PyPI) listening over HTTP on a free loopback port, its configuration and
/// log in a test folder.
struct PDUDaemonServer {
    let process: ChildProcess
    let port: Int
    let logPath: String

    /// The Python program that runs pdudaemon: the package ships no `__main__`, and its
    /// console script may sit outside PATH after a per-user pip install.
    static let launcher = "import sys; from pdudaemon import main; sys.exit(main())"

    /// True when `python3` can import pdudaemon.
    static let isInstalled: Bool = {
        guard let python = ChildProcess.locate("python3") else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: python)
        probe.arguments = ["-c", "import pdudaemon"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        do {
            try probe.run()
            probe.waitUntilExit()
            return probe.terminationStatus == 0
        } catch {
            return false
        }
    }()

    /// Writes a configuration with `pdus`, starts pdudaemon and waits until it accepts connections.
    static func start(in folder: TemporaryFolder, pdus: [String: Any]) async throws -> PDUDaemonServer {
        let python = try #require(ChildProcess.locate("python3"))
        let probe = try LoopbackListener()
        let port = probe.port
        probe.close()
        let configuration: [String: Any] = [
            "daemon": ["hostname": "127.0.0.1", "port": port, "logging_level": "DEBUG", "listener": "http"],
            "pdus": pdus,
        ]
        let configPath = folder.file("pdudaemon.conf")
        try JSONSerialization.data(withJSONObject: configuration, options: [.prettyPrinted])
            .write(to: URL(fileURLWithPath: configPath))
        let logPath = folder.file("pdudaemon.log")
        let process = try ChildProcess.launch(python, ["-c", launcher, "--conf", configPath], logPath: logPath)
        let server = PDUDaemonServer(process: process, port: port, logPath: logPath)
        let deadline = ContinuousClock.now + .seconds(30)
        while !server.acceptsConnections() {
            guard process.isRunning else {
                throw PowerError.exitedEarly(program: "pdudaemon", status: process.status ?? -1, output: server.logTail())
            }
            guard ContinuousClock.now < deadline else {
                await server.stop()
                throw PowerError.timeout(what: "pdudaemon listening on port \(port)", seconds: 30)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return server
    }

    /// SIGTERM (pdudaemon shuts down its listener and runners), then SIGKILL.
    func stop() async {
        process.signal(SIGTERM)
        if !(await process.waitForExit(seconds: 5)) {
            process.signal(SIGKILL)
            _ = await process.waitForExit(seconds: 5)
        }
    }

    func acceptsConnections() -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { Glibc.close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// The last lines of pdudaemon's log, for failure messages.
    func logTail(lines: Int = 8) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(lines).joined(separator: " | ")
    }
}
