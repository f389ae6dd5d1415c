import FarmCore
import FarmDrivers
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `StreamConsole` on a real PTY: the test plays the board on the master side.
@Suite struct StreamConsoleTests {
    /// Opens a console on a fresh PTY the way a boot does (open, then power-on starts the clock),
    /// runs `body`, and closes the console whatever happens.
    func withConsole(
        _ body: (PseudoTerminal, StreamConsole, BootClock) async throws -> Void
    ) async throws {
        let terminal = try PseudoTerminal()
        let console = StreamConsole(endpoint: .serial(path: terminal.path, baud: 115200))
        let clock = BootClock()
        try await console.open(clock: clock)
        clock.start()
        do {
            try await body(terminal, console, clock)
        } catch {
            await console.close()
            throw error
        }
        await console.close()
    }

    @Test func transcriptKeepsEveryByteAsReceived() async throws {
        let chunks: [[UInt8]] = [
            Array("U-Boot 2024.01\r\n".utf8),
            [0xC3, 0x28, 0xE2, 0x82],  // invalid UTF-8: bad continuation, truncated sequence
            [0x00, 0x00, 0x0D],  // NUL NUL CR (no CR-to-LF translation)
            [0x1B, 0x5B, 0x31, 0x3B, 0x33, 0x32, 0x6D],  // ESC [1;32m
            [0xFF, 0xFE, 0x0A],
            [0x03, 0x04, 0x11, 0x13, 0x1A, 0x7F, 0x0D, 0x0D, 0x0A],  // ^C ^D XON XOFF ^Z DEL: not interpreted
            Array("<<end>>".utf8),
        ]
        try await withConsole { terminal, console, clock in
            for chunk in chunks {
                try terminal.write(chunk)
                try await Task.sleep(for: .milliseconds(20))
            }
            let result = try await console.expect([.literal("<<end>>")], deadline: clock.seconds + 5)
            #expect(result.match != nil)
            #expect(console.transcript.bytes == chunks.flatMap { $0 })
            #expect(console.transcript.lineCount == 4)
        }
    }

    @Test func expectReturnsTheEarliestOfSeveralPatterns() async throws {
        try await withConsole { terminal, console, clock in
            try terminal.write("U-Boot 2024.01\r\nStarting kernel ...\r\nKernel panic - not syncing\r\nlogin # => ")
            let patterns: [ConsolePattern] = [.literal("Kernel panic"), .literal("Starting kernel")]
            let first = try await console.expect(patterns, deadline: clock.seconds + 5)
            #expect(first.match?.patternIndex == 1)
            #expect(first.match?.lineIndex == 1)
            #expect(first.output == "U-Boot 2024.01\r\nStarting kernel")

            let second = try await console.expect(patterns, deadline: clock.seconds + 5)
            #expect(second.match?.patternIndex == 0)
            #expect(second.output == " ...\r\nKernel panic")

            // Within one line, the pattern that matches further left wins whatever its index.
            let prompts = try await console.expect([.literal("=> "), .literal("# ")], deadline: clock.seconds + 5)
            #expect(prompts.match?.patternIndex == 1)
        }
    }

    @Test func expectTimesOutAtItsDeadline() async throws {
        try await withConsole { terminal, console, clock in
            try terminal.write("Hit any key to stop autoboot:  3 \r\n")
            let started = ContinuousClock.now
            let result = try await console.expect([.literal("never printed")], deadline: clock.seconds + 0.3)
            let elapsed = ContinuousClock.now - started
            #expect(result == .timedOut)
            #expect(elapsed >= .milliseconds(200))
            #expect(elapsed <= .seconds(20))
        }
    }

    @Test func expectWithADeadlineAlreadyPassedTimesOutAtOnce() async throws {
        try await withConsole { _, console, clock in
            try await Task.sleep(for: .milliseconds(50))
            let started = ContinuousClock.now
            let result = try await console.expect([.literal("never printed")], deadline: clock.seconds - 1)
            #expect(result == .timedOut)
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    @Test func outputThatArrivedBeforeExpectIsNotLost() async throws {
        try await withConsole { terminal, console, clock in
            try terminal.write("U-Boot 2024.01 (Jan 01 2024)\r\nDRAM:  1 GiB\r\n")
            // Let the reader record it before anyone waits.
            let deadline = ContinuousClock.now + .seconds(5)
            while console.transcript.lineCount < 2 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            try #require(console.transcript.lineCount == 2)
            let started = ContinuousClock.now
            let result = try await console.expect([.literal("U-Boot 2024.01")], deadline: clock.seconds + 60)
            #expect(result.match?.lineIndex == 0)
            #expect(ContinuousClock.now - started < .seconds(20))
        }
    }

    @Test func promptWithoutNewlineIsMatched() async throws {
        try await withConsole { terminal, console, clock in
            try terminal.write("Hit any key to stop autoboot:  0 \r\n=> ")
            let literal = try await console.expect([.literal("=> ")], deadline: clock.seconds + 5)
            #expect(literal.match?.lineIndex == 1)
            #expect(console.transcript.lastLineOpen)

            try terminal.write("printenv\r\nbootcmd=run distro_bootcmd\r\n=> ")
            let regex = try await console.expect([try .regex("^=> $")], deadline: clock.seconds + 5)
            #expect(regex.match?.lineIndex == 3)
            #expect(regex.output == "printenv\r\nbootcmd=run distro_bootcmd\r\n=> ")
        }
    }

    @Test func sendWritesExactBytes() async throws {
        try await withConsole { terminal, console, _ in
            let command = "setenv bootargs 'console=ttyAMA0 root=/dev/ram0' ü\t\r\n"
            try await console.send(command, characterDelayMilliseconds: 0)
            let expected = Array(command.utf8)
            #expect(terminal.read(count: expected.count) == expected)
            // Nothing more: no echo, no CR/LF translation.
            #expect(terminal.read(count: 1, timeoutSeconds: 0.2) == [])
        }
    }

    @Test func characterDelaySpacesOutEveryByte() async throws {
        try await withConsole { terminal, console, _ in
            let started = ContinuousClock.now
            try await console.send("0123456789", characterDelayMilliseconds: 20)
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(180))
            #expect(terminal.read(count: 10) == Array("0123456789".utf8))
        }
    }

    @Test func closingTheBoardSideEndsAWaitWithClosed() async throws {
        try await withConsole { terminal, console, clock in
            let waiting = Task { try await console.expect([.literal("login:")], deadline: clock.seconds + 60) }
            try await Task.sleep(for: .milliseconds(200))
            let started = ContinuousClock.now
            terminal.closeMaster()
            let error = await #expect(throws: ConsoleError.self) { try await waiting.value }
            guard case .closed(let location)? = error else {
                Issue.record("expected ConsoleError.closed, got \(String(describing: error))")
                return
            }
            #expect(location.contains(terminal.path))
            #expect(ContinuousClock.now - started < .seconds(20))
            // Later waits fail the same way instead of hanging, and so does sending.
            await #expect(throws: ConsoleError.self) {
                try await console.expect([.literal("login:")], deadline: clock.seconds + 60)
            }
            await #expect(throws: ConsoleError.self) {
                try await console.send("root\n", characterDelayMilliseconds: 0)
            }
        }
    }

    @Test func cancellingAWaitEndsItPromptly() async throws {
        try await withConsole { terminal, console, clock in
            let waiting = Task { try await console.expect([.literal("login:")], deadline: clock.seconds + 60) }
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            #expect(ContinuousClock.now - started < .seconds(20))
            // The console is still usable afterwards.
            try terminal.write("buildroot login: ")
            let result = try await console.expect([.literal("login:")], deadline: clock.seconds + 5)
            #expect(result.match != nil)
        }
    }

    @Test func linesCarryTheTimeTheirFirstByteArrived() async throws {
        try await withConsole { terminal, console, clock in
            try terminal.write("Starting kernel ...\r\n[    0.000000] Boot")
            try await Task.sleep(for: .milliseconds(250))
            try terminal.write("ing Linux on physical CPU 0x0\r\n")
            try await Task.sleep(for: .milliseconds(250))
            try terminal.write("Run /init as init process\r\n")
            let result = try await console.expect([.literal("Run /init")], deadline: clock.seconds + 5)
            let times = console.transcript.lineTimes
            try #require(times.count == 3)
            #expect(times[0] > 0)
            #expect(times[1] - times[0] < 200_000_000, "a line is stamped when its first byte arrives")
            #expect(times[2] - times[1] >= 400_000_000)
            #expect(result.match?.timeNanoseconds == times[2])
        }
    }

    @Test func sendBeforeOpenFails() async throws {
        let terminal = try PseudoTerminal()
        let console = StreamConsole(endpoint: .serial(path: terminal.path, baud: 115200))
        let error = await #expect(throws: ConsoleError.self) {
            try await console.send("x", characterDelayMilliseconds: 0)
        }
        guard case .notOpen? = error else {
            Issue.record("expected ConsoleError.notOpen, got \(String(describing: error))")
            return
        }
    }

    @Test func closeIsSafeToCallTwice() async throws {
        try await withConsole { _, console, _ in
            await console.close()
            await console.close()
        }
    }

    /// Opens a console with `policy` on a symlink (standing in for a udev name) to a fresh PTY,
    /// starts the clock, runs `body` with the symlink's path and the PTY, and closes the console
    /// whatever happens. `body` may drop the PTY and remove the link (the device goes away), then
    /// link a new PTY (it comes back).
    func withReopeningConsole(
        _ policy: ConsoleReopenPolicy,
        _ body: (String, inout PseudoTerminal?, StreamConsole, BootClock) async throws -> Void
    ) async throws {
        let folder = try TemporaryFolder()
        let link = folder.file("usb-FTDI_FT232R_A10K3X7B-if00-port0")
        var terminal: PseudoTerminal? = try PseudoTerminal()
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: try #require(terminal).path)
        let console = StreamConsole(endpoint: .serial(path: link, baud: 115200), reopen: policy)
        let clock = BootClock()
        try await console.open(clock: clock)
        clock.start()
        do {
            try await body(link, &terminal, console, clock)
        } catch {
            await console.close()
            throw error
        }
        await console.close()
    }

    /// Waits until the transcript holds `text`, for at most `timeoutSeconds`.
    func waitForTranscript(of console: StreamConsole, toContain text: String, timeoutSeconds: Double = 10) async throws {
        let deadline = ContinuousClock.now + .seconds(timeoutSeconds)
        while !String(decoding: console.transcript.bytes, as: UTF8.self).contains(text) && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func aSerialDeviceThatComesBackIsReopenedAndTheGapIsMarked() async throws {
        let policy = ConsoleReopenPolicy(waitSeconds: 10, pollIntervalSeconds: 0.05)
        try await withReopeningConsole(policy) { link, terminal, console, clock in
            #expect(console.reopenPolicy == policy)
            try #require(terminal).write("U-Boot 2024.01\r\nresetting ...")
            let before = try await console.expect([.literal("resetting")], deadline: clock.seconds + 5)
            #expect(before.match != nil)
            let waiting = Task { try await console.expect([.literal("Starting kernel")], deadline: clock.seconds + 30) }
            try await Task.sleep(for: .milliseconds(100))

            // Power cycle: the adapter's node and its udev link go away, then a new node appears
            // under the same name. (Removing the link also keeps the console from opening an
            // unrelated PTY that reuses the old /dev/pts number meanwhile.)
            terminal?.closeMaster()
            terminal = nil
            try FileManager.default.removeItem(atPath: link)
            try await Task.sleep(for: .milliseconds(300))
            let second = try PseudoTerminal()
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: second.path)
            try await waitForTranscript(of: console, toContain: "reopened after")
            try second.write("U-Boot 2024.01\r\nStarting kernel ...\r\n")

            let after = try await waiting.value
            #expect(after.match != nil)
            let text = String(decoding: console.transcript.bytes, as: UTF8.self)
            let marker = try #require(
                text.firstMatch(of: /\n\[bootfarm: console lost at (\d+\.\d{3}) s, reopened after (\d+\.\d{3}) s\]\n/))
            #expect(text[..<marker.range.lowerBound] == "U-Boot 2024.01\r\nresetting ...")
            #expect(text[marker.range.upperBound...] == "U-Boot 2024.01\r\nStarting kernel ...\r\n")
            let lostSeconds = try #require(Double(marker.output.1))
            let gapSeconds = try #require(Double(marker.output.2))
            #expect(lostSeconds > 0)
            #expect(gapSeconds >= 0.1)
            #expect(gapSeconds < 10)

            // The reopened device is usable in both directions.
            try await console.send("root\n", characterDelayMilliseconds: 0)
            #expect(second.read(count: 5) == Array("root\n".utf8))
        }
    }

    @Test func aSerialDeviceThatStaysAwayClosesTheConsoleAfterTheWait() async throws {
        let policy = ConsoleReopenPolicy(waitSeconds: 0.5, pollIntervalSeconds: 0.05)
        try await withReopeningConsole(policy) { link, terminal, console, clock in
            try #require(terminal).write("Starting kernel ...\r\n")
            _ = try await console.expect([.literal("Starting kernel")], deadline: clock.seconds + 5)
            let waiting = Task { try await console.expect([.literal("login:")], deadline: clock.seconds + 60) }
            try await Task.sleep(for: .milliseconds(100))
            let started = ContinuousClock.now
            terminal?.closeMaster()
            terminal = nil
            try FileManager.default.removeItem(atPath: link)

            let error = await #expect(throws: ConsoleError.self) { try await waiting.value }
            guard case .closed? = error else {
                Issue.record("expected ConsoleError.closed, got \(String(describing: error))")
                return
            }
            let elapsed = ContinuousClock.now - started
            #expect(elapsed >= .milliseconds(450), "the console waited for the device")
            #expect(elapsed < .seconds(20))
            let text = String(decoding: console.transcript.bytes, as: UTF8.self)
            let notBack = /\[bootfarm: console lost at \d+\.\d{3} s, not back after (\d+\.\d{3}) s\]\n/
            let marker = try #require(text.firstMatch(of: notBack))
            #expect(text[..<marker.range.lowerBound] == "Starting kernel ...\r\n")
            #expect(marker.range.upperBound == text.endIndex)
            #expect(try #require(Double(marker.output.1)) >= 0.5)
            await #expect(throws: ConsoleError.self) {
                try await console.expect([.literal("login:")], deadline: clock.seconds + 60)
            }
            await #expect(throws: ConsoleError.self) {
                try await console.send("root\n", characterDelayMilliseconds: 0)
            }
        }
    }

    @Test func aWaitDuringTheGapStillEndsAtItsDeadline() async throws {
        try await withReopeningConsole(ConsoleReopenPolicy(waitSeconds: 30)) { link, terminal, console, clock in
            terminal?.closeMaster()
            terminal = nil
            try FileManager.default.removeItem(atPath: link)
            try await Task.sleep(for: .milliseconds(200))

            let started = ContinuousClock.now
            let result = try await console.expect([.literal("login:")], deadline: clock.seconds + 0.3)
            #expect(result == .timedOut)
            // Sending while the device is away fails at once instead of writing to a stale descriptor.
            await #expect(throws: ConsoleError.self) {
                try await console.send("root\n", characterDelayMilliseconds: 0)
            }
            await console.close()
            #expect(ContinuousClock.now - started < .seconds(10), "close() does not wait out the reopen policy")
        }
    }
}
