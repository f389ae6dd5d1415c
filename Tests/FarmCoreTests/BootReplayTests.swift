import Testing

@testable import FarmCore

/// Recorded boots replayed through the scanner, the state machine and the log analyzer, as the
/// job runner drives them, with a clock that advances 10 ms per console line.
@Suite("Recorded boots replayed through the state machine")
struct BootReplayTests {
    struct Replay {
        var outcome: BootOutcome
        var verdict: BootVerdict
        var sent: [String]
        var analysis: LogAnalysis
    }

    static let secondsPerLine = 0.01

    /// Replays `log` into a growing transcript, one line at a time whenever the machine waits
    /// for text it has not seen yet; the log analyzer reads along, as in the job runner.
    static func replay(_ log: String, machine: BootStateMachine) throws -> Replay {
        let bytes = try TestFiles.log(log)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for (offset, byte) in bytes.enumerated() where byte == 0x0A {
            lines.append(bytes[start...offset])
            start = offset + 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }

        var transcript = ConsoleTranscript()
        var fed = 0
        var machine = machine
        var scanner = ConsoleScanner()
        var analyzer = LogAnalyzer()
        var sent: [String] = []
        var now = 0.0
        var action = machine.handle(.poweredOn(at: now))
        for _ in 0..<1000 {
            switch action {
            case .finish(let verdict):
                analyzer.consume(transcript, includingOpenLine: true)
                let outcome = BootOutcome.resolve(verdict, analysis: analyzer.analysis, consoleBytes: transcript.bytes.count)
                return Replay(outcome: outcome, verdict: verdict, sent: sent, analysis: analyzer.analysis)
            case .send(let text, _):
                sent.append(text)
                action = machine.handle(.sent(at: now))
            case .expect(let patterns, let deadline):
                var match = scanner.next(in: transcript, patterns: patterns)
                while match == nil, fed < lines.count {
                    transcript.append(lines[fed], at: Int64(fed) * Int64(secondsPerLine * 1e9))
                    fed += 1
                    match = scanner.next(in: transcript, patterns: patterns)
                }
                analyzer.consume(transcript)
                if let match, Double(match.timeNanoseconds) / 1e9 <= deadline {
                    now = max(now, Double(match.timeNanoseconds) / 1e9)
                    let output = String(decoding: transcript.bytes[match.output], as: UTF8.self)
                    action = machine.handle(.matched(patternIndex: match.patternIndex, output: output, at: now))
                    if machine.stage == .prompt { analyzer.promptReached(atNanoseconds: match.timeNanoseconds) }
                } else {
                    now = deadline
                    action = machine.handle(.timedOut(at: now))
                }
            }
        }
        Issue.record("the replay of \(log) did not finish")
        throw ReplayDidNotFinish()
    }

    struct ReplayDidNotFinish: Error {}

    static func boardType(_ name: String) throws -> BoardType {
        let file = "boards/\(name).yaml"
        return try BoardType.decode(try ConfigNode.parse(try TestFiles.text(file), file: file))
    }

    static func uBootMachine(_ typeName: String, files: BootFiles, bootArguments: String) throws -> BootStateMachine {
        let type = try boardType(typeName)
        let settings = try #require(type.uBoot)
        return try BootStateMachine(
            uBoot: settings, commands: UBootCommand.script(for: type, settings: settings, files: files, bootArguments: bootArguments),
            shellPrompt: try ConsolePattern.regex(type.shellPrompt), timeouts: type.timeouts)
    }

    static func arm64(kernel: String = "Image") throws -> BootStateMachine {
        try uBootMachine(
            "qemu-arm64-uboot", files: BootFiles(kernel: kernel, ramdisk: "ramdisk", ramdiskSizeBytes: 0xF0E43),
            bootArguments: "console=ttyAMA0,115200")
    }

    @Test func theGoodArm64BootPasses() throws {
        let replay = try Self.replay("arm64-uboot-good.log", machine: try Self.arm64())
        #expect(replay.outcome == BootOutcome(status: .pass, stage: .prompt, reason: ""))
        #expect(replay.sent.first == " ")
        #expect(replay.sent.last == "booti 0x40400000 0x44000000:0xf0e43 ${fdtcontroladdr}\n")
        #expect(replay.sent.count == 7)
        #expect(replay.analysis.bootTimeSeconds == 1.312986)
    }

    @Test func theGoodX86BootPasses() throws {
        let machine = try Self.uBootMachine(
            "qemu-x86-uboot", files: BootFiles(kernel: "bzImage", ramdisk: "ramdisk-x86", ramdiskSizeBytes: 1_028_499),
            bootArguments: "console=ttyS0,115200")
        let replay = try Self.replay("x86-uboot-good.log", machine: machine)
        #expect(replay.outcome == BootOutcome(status: .pass, stage: .prompt, reason: ""))
        #expect(replay.sent.last == "zboot 0x1000000 0 0x10000000 0xfb193\n")
    }

    @Test func thePanicBootFailsInUserspaceWithThePanicLine() throws {
        let replay = try Self.replay("arm64-uboot-panic.log", machine: try Self.arm64())
        #expect(replay.verdict.status == .fail)
        #expect(replay.outcome.status == .fail)
        #expect(replay.outcome.stage == .userspace)
        #expect(replay.outcome.reason.hasPrefix("Kernel panic - not syncing: Attempted to kill init!"))
    }

    @Test func theMissingTFTPFileIsAnInfrastructureError() throws {
        let replay = try Self.replay("arm64-uboot-tftp-missing.log", machine: try Self.arm64(kernel: "no-such-file"))
        #expect(
            replay.outcome
                == BootOutcome(status: .error, stage: .bootloader, reason: "tftpboot no-such-file: TFTP error: 'File not found' (1)"))
    }

    @Test func theGarbageKernelFailsInTheBootloader() throws {
        let replay = try Self.replay("arm64-uboot-garbage.log", machine: try Self.arm64(kernel: "garbage"))
        #expect(replay.outcome == BootOutcome(status: .fail, stage: .bootloader, reason: "Bad Linux ARM64 Image magic!"))
    }

    @Test func theHangingDirectBootTimesOutInUserspace() throws {
        let type = try Self.boardType("qemu-arm64")
        let machine = try BootStateMachine(
            uBoot: nil, commands: [], shellPrompt: try ConsolePattern.regex(type.shellPrompt), timeouts: type.timeouts)
        let replay = try Self.replay("arm64-direct-hang.log", machine: machine)
        #expect(replay.sent.isEmpty)
        #expect(replay.outcome.status == .fail)
        #expect(replay.outcome.stage == .userspace)
        #expect(replay.outcome.reason == "timeout in userspace after 60 s waiting for the shell prompt '/ # '")
        #expect(replay.verdict.timedOut)
    }
}
