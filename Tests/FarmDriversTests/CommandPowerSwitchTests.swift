import FarmDrivers
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct CommandPowerSwitchTests {
    @Test func onAndOffRunTheirCommands() async throws {
        let folder = try TemporaryFolder()
        let power = CommandPowerSwitch(onCommand: "touch '\(folder.file("on"))'", offCommand: "touch '\(folder.file("off"))'")
        try await power.on()
        #expect(FileManager.default.fileExists(atPath: folder.file("on")))
        #expect(!FileManager.default.fileExists(atPath: folder.file("off")))
        try await power.off()
        #expect(FileManager.default.fileExists(atPath: folder.file("off")))
        #expect(try await power.state() == .unknown)
    }

    @Test func failingCommandReportsItsStatusAndLastOutputLines() async throws {
        let command = "for i in 1 2 3 4 5 6; do echo line $i; done; echo relay not answering >&2; exit 3"
        let power = CommandPowerSwitch(onCommand: command, offCommand: "true", attempts: 1, outputLines: 3)
        let error = await #expect(throws: PowerError.self) { try await power.on() }
        guard case .exitedEarly(let program, let status, let output)? = error else {
            Issue.record("expected PowerError.exitedEarly, got \(String(describing: error))")
            return
        }
        #expect(program == "power-on command `\(command)`")
        #expect(status == 3)
        #expect(output == "line 5 | line 6 | relay not answering")
        #expect(
            error?.description
                == "power-on command `\(command)` exited with status 3: line 5 | line 6 | relay not answering")
    }

    @Test func missingProgramIsReportedWithTheShellsAnswer() async throws {
        let power = CommandPowerSwitch(onCommand: "true", offCommand: "bootfarm-no-such-relay-tool --off 3", attempts: 1)
        let error = await #expect(throws: PowerError.self) { try await power.off() }
        guard case .exitedEarly(let program, let status, let output)? = error else {
            Issue.record("expected PowerError.exitedEarly, got \(String(describing: error))")
            return
        }
        #expect(program == "power-off command `bootfarm-no-such-relay-tool --off 3`")
        #expect(status == 127)
        #expect(output.contains("bootfarm-no-such-relay-tool"))
        #expect(output.contains("not found"))
    }

    @Test func failingCommandIsRunAttemptsTimesThenReported() async throws {
        let folder = try TemporaryFolder()
        let counter = folder.file("runs")
        let power = CommandPowerSwitch(
            onCommand: "echo run >> '\(counter)'; echo still broken; exit 4", offCommand: "true", attempts: 3,
            retryDelaySeconds: 0.05)
        let error = await #expect(throws: PowerError.self) { try await power.on() }
        #expect(try Self.lines(counter) == ["run", "run", "run"])
        guard case .exitedEarly(let program, let status, let output)? = error else {
            Issue.record("expected PowerError.exitedEarly, got \(String(describing: error))")
            return
        }
        #expect(program.hasSuffix("(attempt 3 of 3)"))
        #expect(status == 4)
        #expect(output == "still broken")
    }

    @Test func flakyCommandSucceedsOnALaterAttempt() async throws {
        let folder = try TemporaryFolder()
        let counter = folder.file("runs")
        // Fails the first time, succeeds the second.
        let power = CommandPowerSwitch(
            onCommand: "echo run >> '\(counter)'; [ $(wc -l < '\(counter)') -ge 2 ]", offCommand: "true", attempts: 3,
            retryDelaySeconds: 0.05)
        try await power.on()
        #expect(try Self.lines(counter) == ["run", "run"])
    }

    @Test(.timeLimit(.minutes(1))) func hangingCommandIsKilledWithEverythingItStarted() async throws {
        let folder = try TemporaryFolder()
        let children = folder.file("children")
        // The shell waits on a background child that ignores SIGTERM: only killing the group stops both.
        let command = "trap '' TERM; sleep 60 & echo $! >> '\(children)'; wait"
        let power = CommandPowerSwitch(onCommand: command, offCommand: "true", timeoutSeconds: 0.5, attempts: 2, retryDelaySeconds: 0.05)
        let started = ContinuousClock.now
        let error = await #expect(throws: PowerError.self) { try await power.on() }
        #expect(ContinuousClock.now - started < .seconds(15))
        guard case .timeout(let what, let seconds)? = error else {
            Issue.record("expected PowerError.timeout, got \(String(describing: error))")
            return
        }
        #expect(what == "power-on command `\(command)` (attempt 2 of 2)")
        #expect(seconds == 0.5)
        let pids = try Self.lines(children).compactMap { Int32($0) }
        #expect(pids.count == 2, "one run per attempt")
        for pid in pids {
            #expect(await Self.waitUntilGone(pid), "background child \(pid) of the killed command still runs")
        }
    }

    @Test func cycleRunsItsOwnCommandWhenGiven() async throws {
        let folder = try TemporaryFolder()
        let journal = folder.file("journal")
        let power = CommandPowerSwitch(
            onCommand: "echo on >> '\(journal)'", offCommand: "echo off >> '\(journal)'", cycleCommand: "echo cycle >> '\(journal)'")
        try await power.cycle()
        #expect(try Self.lines(journal) == ["cycle"])
    }

    @Test func cycleWithoutItsCommandIsOffThenOn() async throws {
        let folder = try TemporaryFolder()
        let journal = folder.file("journal")
        let power = CommandPowerSwitch(
            onCommand: "echo on >> '\(journal)'", offCommand: "echo off >> '\(journal)'", cycleDelaySeconds: 0.05)
        try await power.cycle()
        #expect(try Self.lines(journal) == ["off", "on"])
    }

    @Test func cycleStopsWhenPowerOffFails() async throws {
        let folder = try TemporaryFolder()
        let journal = folder.file("journal")
        let power = CommandPowerSwitch(
            onCommand: "echo on >> '\(journal)'", offCommand: "echo off >> '\(journal)'; exit 1", attempts: 1,
            cycleDelaySeconds: 0.05)
        await #expect(throws: PowerError.self) { try await power.cycle() }
        #expect(try Self.lines(journal) == ["off"], "never powered on after a failed power-off")
    }

    // MARK: - Helpers

    static func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// Waits up to 10 s for `pid` to end. An orphan may never be reaped here: a zombie counts as gone.
    static func waitUntilGone(_ pid: Int32) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return true }
            if stat[stat.index(after: close)...].trimmingCharacters(in: .whitespaces).hasPrefix("Z") { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
