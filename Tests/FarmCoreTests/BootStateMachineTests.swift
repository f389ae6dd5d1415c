import Testing

@testable import FarmCore

@Suite("Boot state machine, driven by events alone")
struct BootStateMachineTests {
    typealias Action = BootStateMachine.Action

    static let settings = UBootSettings(kernelAddress: 0x4040_0000, ramdiskAddress: 0x4400_0000, dtbAddress: 0x43F0_0000)
    static let timeouts = StageTimeouts(power: 15, bootloader: 60, kernel: 50, userspace: 40)
    static let files = BootFiles(kernel: "Image", ramdisk: "ramdisk", ramdiskSizeBytes: 0xF0E43)

    static func arm64Type() throws -> BoardType {
        let file = "boards/qemu-arm64-uboot.yaml"
        return try BoardType.decode(try ConfigNode.parse(try TestFiles.text(file), file: file))
    }

    static func commands(files: BootFiles = files) throws -> [UBootCommand] {
        UBootCommand.script(for: try arm64Type(), settings: settings, files: files, bootArguments: "console=ttyAMA0,115200")
    }

    static func uBootMachine(files: BootFiles = files) throws -> BootStateMachine {
        try BootStateMachine(uBoot: settings, commands: commands(files: files), shellPrompt: prompt, timeouts: timeouts)
    }

    static let prompt = ConsolePattern.literal("/ # ")
    static let bootloaderWatch = [ConsolePattern.literal("Hit any key to stop autoboot"), .literal("=> ")]
    static let kernelWatch: [ConsolePattern] = [
        prompt, .literal("Kernel panic - not syncing"), .literal("Linux version "), .literal("Booting Linux on physical CPU"),
        .literal("Run /init as init process"), .literal("Freeing unused kernel"),
    ]
    static let kernelStartWatch = [ConsolePattern.literal("Starting kernel"), .literal("=> ")] + kernelWatch

    /// What U-Boot printed for each command of the arm64 script, taken from the recorded boot.
    static func answer(to command: UBootCommand) -> String {
        switch command.kind {
        case .setting:
            return "\(command.text)\r\n=> "
        case .dhcp:
            return "dhcp\r\nBOOTP broadcast 1\r\nDHCP client bound to address 10.0.2.15 (2 ms)\r\n=> "
        case .load(let file):
            return """
                \(command.text)\r
                Using virtio-net#32 device\r
                TFTP from server 10.0.2.2; our IP address is 10.0.2.15\r
                Filename '\(file)'.\r
                Load address: 0x40400000\r
                Loading: *\u{8}#################################################################\r
                \t 20.8 MiB/s\r
                done\r
                Bytes transferred = 986691 (f0e43 hex)\r
                =>\u{20}
                """
        case .boot:
            return ""
        }
    }

    /// Drives the machine from power-on through every U-Boot command to the boot command's
    /// `.sent`, checking each action, and returns the action that follows.
    static func driveThroughUBoot(_ machine: inout BootStateMachine, powerOnAt start: Double = 0.5) throws -> Action {
        let deadline = start + timeouts.bootloader
        #expect(machine.handle(.poweredOn(at: start)) == .expect(bootloaderWatch, deadline: deadline))
        #expect(machine.stage == .bootloader)
        #expect(
            machine.handle(.matched(patternIndex: 0, output: "U-Boot 2023.01\r\nHit any key to stop autoboot", at: start + 1))
                == .send(" ", characterDelayMilliseconds: 0))
        #expect(machine.handle(.sent(at: start + 1.01)) == .expect([.literal("=> ")], deadline: deadline))
        var action = machine.handle(.matched(patternIndex: 0, output: ":  2 \u{8}\u{8}\u{8} 0 \r\n=> ", at: start + 1.1))
        var time = start + 1.2
        let script = try commands()
        for (index, command) in script.enumerated() {
            #expect(action == .send(command.text + "\n", characterDelayMilliseconds: 0), "command \(index)")
            action = machine.handle(.sent(at: time))
            if command.kind == .boot { break }
            #expect(action == .expect([.literal("=> ")], deadline: deadline), "command \(index)")
            #expect(machine.stage == .bootloader)
            time += 0.3
            action = machine.handle(.matched(patternIndex: 0, output: answer(to: command), at: time))
        }
        return action
    }

    // MARK: U-Boot path

    @Test func ubootInterruptsAutobootLoadsOverTFTPAndBootsToTheShellPrompt() throws {
        var machine = try Self.uBootMachine()
        var action = try Self.driveThroughUBoot(&machine)
        #expect(action == .expect(Self.kernelStartWatch, deadline: 60.5))

        action = machine.handle(.matched(patternIndex: 0, output: "Starting kernel", at: 6))
        #expect(machine.stage == .kernel)
        #expect(action == .expect(Self.kernelWatch, deadline: 56))

        action = machine.handle(.matched(patternIndex: 2, output: "\r\n\r\n[    0.000000] Linux version ", at: 6.2))
        #expect(action == .expect(Self.kernelWatch, deadline: 56), "the kernel deadline counts from Starting kernel")

        action = machine.handle(.matched(patternIndex: 5, output: "Freeing unused kernel", at: 7.3))
        #expect(machine.stage == .userspace)
        #expect(action == .expect(Self.kernelWatch, deadline: 47.3))

        action = machine.handle(.matched(patternIndex: 4, output: "Run /init as init process", at: 7.4))
        #expect(action == .expect(Self.kernelWatch, deadline: 47.3), "user space's deadline is not moved again")

        action = machine.handle(.matched(patternIndex: 0, output: "\r\nBusyBox v1.35.0\r\n\r\n/ # ", at: 8))
        #expect(action == .finish(BootVerdict(status: .pass, stage: .prompt)))
        #expect(machine.stage == .prompt)
    }

    @Test func anAutobootPromptThatNeverAppearsButTheUBootPromptDoesStillRunsTheScript() throws {
        var machine = try Self.uBootMachine()
        _ = machine.handle(.poweredOn(at: 0))
        let action = machine.handle(.matched(patternIndex: 1, output: "=> ", at: 1))
        #expect(action == .send("setenv autoload no\n", characterDelayMilliseconds: 0))
    }

    @Test func theCharacterDelayOfTheBoardIsUsedForCommandsButNotForTheInterrupt() throws {
        var settings = Self.settings
        settings.characterDelayMilliseconds = 7
        settings.interrupt = "\u{3}"
        var machine = try BootStateMachine(
            uBoot: settings, commands: try Self.commands(), shellPrompt: Self.prompt, timeouts: Self.timeouts)
        _ = machine.handle(.poweredOn(at: 0))
        #expect(machine.handle(.matched(patternIndex: 0, output: "", at: 1)) == .send("\u{3}", characterDelayMilliseconds: 0))
        _ = machine.handle(.sent(at: 1))
        #expect(
            machine.handle(.matched(patternIndex: 0, output: "=> ", at: 1)) == .send("setenv autoload no\n", characterDelayMilliseconds: 7))
    }

    @Test func aTFTPErrorIsAnInfrastructureErrorNamingTheFile() throws {
        var machine = try Self.uBootMachine(files: BootFiles(kernel: "no-such-file"))
        _ = machine.handle(.poweredOn(at: 0))
        _ = machine.handle(.matched(patternIndex: 0, output: "", at: 1))
        _ = machine.handle(.sent(at: 1))
        #expect(
            machine.handle(.matched(patternIndex: 0, output: "=> ", at: 1)) == .send("setenv autoload no\n", characterDelayMilliseconds: 0))
        _ = machine.handle(.sent(at: 1))
        #expect(
            machine.handle(.matched(patternIndex: 0, output: "setenv autoload no\r\n=> ", at: 1))
                == .send("dhcp\n", characterDelayMilliseconds: 0))
        _ = machine.handle(.sent(at: 1))
        let dhcp = "dhcp\r\nBOOTP broadcast 1\r\nDHCP client bound to address 10.0.2.15 (2 ms)\r\n=> "
        #expect(
            machine.handle(.matched(patternIndex: 0, output: dhcp, at: 2))
                == .send("tftpboot 0x40400000 no-such-file\n", characterDelayMilliseconds: 0))
        _ = machine.handle(.sent(at: 2))
        let tftp = """
            tftpboot 0x40400000 no-such-file\r
            Using virtio-net#32 device\r
            TFTP from server 10.0.2.2; our IP address is 10.0.2.15\r
            Filename 'no-such-file'.\r
            Load address: 0x40400000\r
            Loading: *\u{8}\r
            TFTP error: 'File not found' (1)\r
            Not retrying...\r
            =>\u{20}
            """
        let action = machine.handle(.matched(patternIndex: 0, output: tftp, at: 3))
        guard case .finish(let verdict) = action else {
            Issue.record("expected the boot to end, got \(action)")
            return
        }
        #expect(verdict.status == .error)
        #expect(verdict.stage == .bootloader)
        #expect(verdict.reason.contains("no-such-file"))
        #expect(verdict.reason == "tftpboot no-such-file: TFTP error: 'File not found' (1)")
        #expect(!verdict.timedOut)
    }

    @Test func aDHCPFailureIsAnInfrastructureError() throws {
        var machine = try Self.uBootMachine()
        _ = machine.handle(.poweredOn(at: 0))
        _ = machine.handle(.matched(patternIndex: 1, output: "=> ", at: 1))
        _ = machine.handle(.sent(at: 1))
        _ = machine.handle(.matched(patternIndex: 0, output: "setenv autoload no\r\n=> ", at: 1))
        _ = machine.handle(.sent(at: 1))
        let action = machine.handle(
            .matched(
                patternIndex: 0, output: "dhcp\r\nBOOTP broadcast 1\r\nBOOTP broadcast 2\r\n\r\nRetry time exceeded; starting again\r\n=> ",
                at: 9))
        #expect(
            action
                == .finish(
                    BootVerdict(status: .error, stage: .bootloader, reason: "dhcp: no address (Retry time exceeded; starting again)")))
    }

    @Test func aKernelImageWithBadMagicFailsTheBootInTheBootloader() throws {
        var machine = try Self.uBootMachine()
        let action = try Self.driveThroughUBoot(&machine)
        #expect(action == .expect(Self.kernelStartWatch, deadline: 60.5))
        let output = "booti 0x40400000 0x44000000:0xf0e43 ${fdtcontroladdr}\r\nBad Linux ARM64 Image magic!\r\n=> "
        #expect(
            machine.handle(.matched(patternIndex: 1, output: output, at: 5))
                == .finish(BootVerdict(status: .fail, stage: .bootloader, reason: "Bad Linux ARM64 Image magic!")))
    }

    @Test func aBootCommandThatReturnsSilentlyToThePromptFails() throws {
        var machine = try Self.uBootMachine()
        _ = try Self.driveThroughUBoot(&machine)
        let action = machine.handle(
            .matched(patternIndex: 1, output: "booti 0x40400000 0x44000000:0xf0e43 ${fdtcontroladdr}\r\n=> ", at: 5))
        guard case .finish(let verdict) = action else {
            Issue.record("expected the boot to end, got \(action)")
            return
        }
        #expect(verdict.status == .fail)
        #expect(verdict.stage == .bootloader)
        #expect(verdict.reason.hasPrefix("booti returned to the U-Boot prompt"))
    }

    @Test func aKernelLineWithoutStartingKernelStillMovesToTheKernelStage() throws {
        var machine = try Self.uBootMachine()
        _ = try Self.driveThroughUBoot(&machine)
        // Index 4 of the kernel-start patterns is `Linux version `.
        let action = machine.handle(.matched(patternIndex: 4, output: "Linux version ", at: 6))
        #expect(machine.stage == .kernel)
        #expect(action == .expect(Self.kernelWatch, deadline: 56))
    }

    @Test func aBoardTypeWithoutCommandsIsAnError() throws {
        var machine = try BootStateMachine(uBoot: Self.settings, commands: [], shellPrompt: Self.prompt, timeouts: Self.timeouts)
        _ = machine.handle(.poweredOn(at: 0))
        let action = machine.handle(.matched(patternIndex: 1, output: "=> ", at: 1))
        #expect(action == .finish(BootVerdict(status: .error, stage: .bootloader, reason: "the board type gave U-Boot no boot command")))
    }

    // MARK: Timeouts

    @Test func aTimeoutInUserspaceFailsTheBootNamingTheStageAndItsTimeout() throws {
        var machine = try Self.uBootMachine()
        _ = try Self.driveThroughUBoot(&machine)
        _ = machine.handle(.matched(patternIndex: 0, output: "Starting kernel", at: 6))
        let action = machine.handle(.matched(patternIndex: 4, output: "Run /init as init process", at: 7))
        #expect(action == .expect(Self.kernelWatch, deadline: 47))
        #expect(
            machine.handle(.timedOut(at: 47))
                == .finish(
                    BootVerdict(
                        status: .fail, stage: .userspace,
                        reason: "timeout in userspace after 40 s waiting for the shell prompt '\(Self.prompt.source)'",
                        timedOut: true)))
    }

    @Test func aTimeoutInTheKernelStageFails() throws {
        var machine = try Self.uBootMachine()
        _ = try Self.driveThroughUBoot(&machine)
        _ = machine.handle(.matched(patternIndex: 0, output: "Starting kernel", at: 6))
        let action = machine.handle(.timedOut(at: 56))
        #expect(
            action
                == .finish(
                    BootVerdict(
                        status: .fail, stage: .kernel,
                        reason: "timeout in kernel after 50 s waiting for the shell prompt '\(Self.prompt.source)'", timedOut: true)))
    }

    @Test func noAutobootPromptInTimeIsAnInfrastructureError() throws {
        var machine = try Self.uBootMachine()
        #expect(machine.handle(.poweredOn(at: 0)) == .expect(Self.bootloaderWatch, deadline: 60))
        #expect(
            machine.handle(.timedOut(at: 60))
                == .finish(
                    BootVerdict(
                        status: .error, stage: .bootloader, reason: "timeout in bootloader after 60 s waiting for U-Boot's autoboot prompt",
                        timedOut: true)))
    }

    @Test func aCommandThatNeverReturnsToThePromptIsAnInfrastructureError() throws {
        var machine = try Self.uBootMachine()
        _ = machine.handle(.poweredOn(at: 0))
        _ = machine.handle(.matched(patternIndex: 1, output: "=> ", at: 1))
        _ = machine.handle(.sent(at: 1))
        let action = machine.handle(.timedOut(at: 60))
        #expect(
            action
                == .finish(
                    BootVerdict(
                        status: .error, stage: .bootloader, reason: "timeout in bootloader after 60 s waiting for the U-Boot prompt",
                        timedOut: true)))
    }

    @Test func aKernelThatNeverStartsAfterTheBootCommandFails() throws {
        var machine = try Self.uBootMachine()
        _ = try Self.driveThroughUBoot(&machine)
        #expect(
            machine.handle(.timedOut(at: 60.5))
                == .finish(
                    BootVerdict(
                        status: .fail, stage: .bootloader, reason: "timeout in bootloader after 60 s waiting for the kernel to start",
                        timedOut: true)))
    }

    @Test func fractionalTimeoutsAreShownWithOneDecimal() throws {
        var timeouts = Self.timeouts
        timeouts.bootloader = 2.5
        var machine = try BootStateMachine(
            uBoot: Self.settings, commands: try Self.commands(), shellPrompt: Self.prompt, timeouts: timeouts)
        _ = machine.handle(.poweredOn(at: 0))
        guard case .finish(let verdict) = machine.handle(.timedOut(at: 2.5)) else {
            Issue.record("expected the boot to end")
            return
        }
        #expect(verdict.reason.hasPrefix("timeout in bootloader after 2.5 s "))
    }

    // MARK: Panics and closed consoles

    @Test func aPanicIsFollowedUntilItsEndMarkerThenFails() throws {
        var machine = try Self.uBootMachine()
        _ = try Self.driveThroughUBoot(&machine)
        _ = machine.handle(.matched(patternIndex: 0, output: "Starting kernel", at: 6))
        _ = machine.handle(.matched(patternIndex: 4, output: "Run /init as init process", at: 7))
        let action = machine.handle(.matched(patternIndex: 1, output: "Kernel panic - not syncing", at: 7.5))
        #expect(action == .expect([.literal("---[ end Kernel panic")], deadline: 10.5))
        let end = machine.handle(.matched(patternIndex: 0, output: "---[ end Kernel panic", at: 7.6))
        #expect(end == .finish(BootVerdict(status: .fail, stage: .userspace, reason: "Kernel panic")))
    }

    @Test func aPanicWithoutEndMarkerFailsWhenTheGraceTimeRunsOut() throws {
        var machine = try BootStateMachine(uBoot: nil, commands: [], shellPrompt: Self.prompt, timeouts: Self.timeouts)
        machine.panicGraceSeconds = 5
        _ = machine.handle(.poweredOn(at: 0))
        _ = machine.handle(.matched(patternIndex: 2, output: "Linux version ", at: 1))
        #expect(
            machine.handle(.matched(patternIndex: 1, output: "Kernel panic - not syncing", at: 2))
                == .expect([.literal("---[ end Kernel panic")], deadline: 7))
        #expect(machine.handle(.timedOut(at: 7)) == .finish(BootVerdict(status: .fail, stage: .kernel, reason: "Kernel panic")))
    }

    @Test func theConsoleClosingDuringAPanicStillFailsTheBoot() throws {
        var machine = try BootStateMachine(uBoot: nil, commands: [], shellPrompt: Self.prompt, timeouts: Self.timeouts)
        _ = machine.handle(.poweredOn(at: 0))
        _ = machine.handle(.matched(patternIndex: 2, output: "Linux version ", at: 1))
        _ = machine.handle(.matched(patternIndex: 1, output: "Kernel panic - not syncing", at: 2))
        #expect(machine.handle(.consoleClosed(at: 2.1)) == .finish(BootVerdict(status: .fail, stage: .kernel, reason: "Kernel panic")))
    }

    @Test func aClosedConsoleIsAnInfrastructureErrorInTheCurrentStage() throws {
        var machine = try Self.uBootMachine()
        _ = try Self.driveThroughUBoot(&machine)
        _ = machine.handle(.matched(patternIndex: 0, output: "Starting kernel", at: 6))
        #expect(
            machine.handle(.consoleClosed(at: 7))
                == .finish(
                    BootVerdict(
                        status: .error, stage: .kernel, reason: "console closed during kernel (the board or its emulator went away)")))
    }

    @Test func aClosedConsoleInTheBootloaderIsAnError() throws {
        var machine = try Self.uBootMachine()
        _ = machine.handle(.poweredOn(at: 0))
        guard case .finish(let verdict) = machine.handle(.consoleClosed(at: 1)) else {
            Issue.record("expected the boot to end")
            return
        }
        #expect(verdict.status == .error)
        #expect(verdict.stage == .bootloader)
    }

    @Test func eventsAfterTheEndAreReportedAsInternalErrors() throws {
        var machine = try BootStateMachine(uBoot: nil, commands: [], shellPrompt: Self.prompt, timeouts: Self.timeouts)
        _ = machine.handle(.poweredOn(at: 0))
        #expect(machine.handle(.matched(patternIndex: 0, output: "/ # ", at: 1)) == .finish(BootVerdict(status: .pass, stage: .prompt)))
        guard case .finish(let verdict) = machine.handle(.sent(at: 2)) else {
            Issue.record("expected the boot to end")
            return
        }
        #expect(verdict.status == .error)
        #expect(verdict.reason.hasPrefix("internal: unexpected"))
    }

    // MARK: Direct boots

    @Test func aDirectBootStartsWatchingTheKernelAtPowerOn() throws {
        var machine = try BootStateMachine(uBoot: nil, commands: [], shellPrompt: Self.prompt, timeouts: Self.timeouts)
        #expect(machine.handle(.poweredOn(at: 1)) == .expect(Self.kernelWatch, deadline: 66))
        #expect(machine.stage == .power)
        #expect(
            machine.handle(.matched(patternIndex: 3, output: "Booting Linux on physical CPU", at: 1.5))
                == .expect(Self.kernelWatch, deadline: 51.5))
        #expect(machine.stage == .kernel)
        #expect(machine.handle(.matched(patternIndex: 2, output: "Linux version ", at: 1.6)) == .expect(Self.kernelWatch, deadline: 51.5))
        #expect(
            machine.handle(.matched(patternIndex: 4, output: "Run /init as init process", at: 3)) == .expect(Self.kernelWatch, deadline: 43)
        )
        #expect(machine.stage == .userspace)
        #expect(machine.handle(.matched(patternIndex: 0, output: "/ # ", at: 4)) == .finish(BootVerdict(status: .pass, stage: .prompt)))
    }

    @Test func aDirectBootWithNoKernelOutputTimesOutInThePowerStage() throws {
        var machine = try BootStateMachine(uBoot: nil, commands: [], shellPrompt: Self.prompt, timeouts: Self.timeouts)
        _ = machine.handle(.poweredOn(at: 0))
        #expect(
            machine.handle(.timedOut(at: 65))
                == .finish(
                    BootVerdict(
                        status: .fail, stage: .power, reason: "timeout in power after 65 s waiting for kernel output", timedOut: true)))
    }

    @Test func aRegexShellPromptIsNamedAsWrittenInTheTimeoutReason() throws {
        let prompt = try ConsolePattern.regex(#"root@\w+:~# "#)
        var machine = try BootStateMachine(uBoot: nil, commands: [], shellPrompt: prompt, timeouts: Self.timeouts)
        _ = machine.handle(.poweredOn(at: 0))
        _ = machine.handle(.matched(patternIndex: 4, output: "Run /init as init process", at: 2))
        guard case .finish(let verdict) = machine.handle(.timedOut(at: 42)) else {
            Issue.record("expected the boot to end")
            return
        }
        #expect(verdict.reason == #"timeout in userspace after 40 s waiting for the shell prompt 'root@\w+:~# '"#)
    }

    @Test func anInvalidAutobootPatternIsRejectedWhenTheMachineIsMade() {
        var settings = Self.settings
        settings.autobootPattern = "Hit any key ("
        #expect(throws: ConsolePatternError.self) {
            try BootStateMachine(uBoot: settings, commands: [], shellPrompt: Self.prompt, timeouts: Self.timeouts)
        }
    }
}
