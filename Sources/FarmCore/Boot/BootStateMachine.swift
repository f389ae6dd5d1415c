import Foundation

/// The boot sequence as a pure state machine: events in, actions out. A thin loop performs the
/// actions (wait on the console, send text) and feeds back what happened. No I/O here, so every
/// transition is tested without a board.
///
/// Times are seconds since power-on. Each stage has its own deadline, counted from the moment the
/// stage began (the bootloader's from power-on; the kernel's from `Starting kernel` or
/// `Linux version`; user space's from `Run /init`).
public struct BootStateMachine: Sendable {
    /// What the loop must do next.
    public enum Action: Sendable, Equatable {
        /// Wait until one of the patterns appears (report `.matched`) or the deadline passes
        /// (report `.timedOut`).
        case expect([ConsolePattern], deadline: Double)
        /// Send the text, then report `.sent`.
        case send(String, characterDelayMilliseconds: Int)
        /// The sequence is over.
        case finish(BootVerdict)
    }

    /// What happened.
    public enum Event: Sendable, Equatable {
        /// The board was powered on.
        case poweredOn(at: Double)
        /// Pattern `patternIndex` of the last `.expect` matched; `output` is what was received
        /// since the previous match, up to this one.
        case matched(patternIndex: Int, output: String, at: Double)
        /// The deadline of the last `.expect` passed.
        case timedOut(at: Double)
        /// The last `.send` finished.
        case sent(at: Double)
        /// The console closed (the board or QEMU went away).
        case consoleClosed(at: Double)
    }

    enum State: Sendable, Equatable {
        case idle
        case awaitingAutoboot
        case awaitingBootloaderPrompt
        case sendingCommand(Int)
        case awaitingCommandAnswer(Int)
        case awaitingKernelStart
        case watchingKernel
        case collectingPanic
        case finished
    }

    /// Patterns the kernel phase watches, in this order.
    enum KernelPattern: Int, CaseIterable {
        case shellPrompt, panic, linuxVersion, bootingLinux, runInit, freeingMemory
    }

    private let settings: UBootSettings?
    private let commands: [UBootCommand]
    private let timeouts: StageTimeouts
    private let shellPrompt: ConsolePattern
    private let promptSource: String
    /// Seconds the console is read after a panic, to keep its backtrace in the log.
    public var panicGraceSeconds = 3.0

    private(set) var state: State = .idle
    /// The stage the sequence believes the board is in.
    public private(set) var stage: Stage = .power
    private var stageDeadline = 0.0
    private var bootloaderPatterns: [ConsolePattern] = []
    private var kernelPatterns: [ConsolePattern] = []

    /// A machine that drives U-Boot with `commands` (when `settings` is given), then watches the
    /// kernel boot to `shellPrompt`.
    public init(uBoot settings: UBootSettings?, commands: [UBootCommand], shellPrompt: ConsolePattern, timeouts: StageTimeouts) throws {
        self.settings = settings
        self.commands = commands
        self.timeouts = timeouts
        self.shellPrompt = shellPrompt
        self.promptSource = shellPrompt.source
        if let settings {
            bootloaderPatterns = [try ConsolePattern.regex(settings.autobootPattern), try ConsolePattern.regex(settings.prompt)]
        }
        kernelPatterns = [
            shellPrompt, .literal("Kernel panic - not syncing"), .literal("Linux version "),
            .literal("Booting Linux on physical CPU"), .literal("Run /init as init process"), .literal("Freeing unused kernel"),
        ]
    }

    private var autobootPattern: ConsolePattern { bootloaderPatterns[0] }
    private var bootloaderPrompt: ConsolePattern { bootloaderPatterns[1] }

    /// Feeds one event and returns the next action.
    public mutating func handle(_ event: Event) -> Action {
        switch (state, event) {
        case (.idle, .poweredOn(let time)):
            if settings != nil {
                stage = .bootloader
                stageDeadline = time + timeouts.bootloader
                state = .awaitingAutoboot
                return .expect(bootloaderPatterns, deadline: stageDeadline)
            }
            stageDeadline = time + timeouts.power + timeouts.kernel
            state = .watchingKernel
            return .expect(kernelPatterns, deadline: stageDeadline)

        case (.collectingPanic, .consoleClosed):
            // The kernel already panicked; a board or emulator that resets or exits now does not
            // turn the kernel's failure into an infrastructure error.
            return finish(BootVerdict(status: .fail, stage: stage, reason: "Kernel panic"))

        case (_, .consoleClosed):
            return finish(
                BootVerdict(
                    status: .error, stage: stage, reason: "console closed during \(stage.rawValue) (the board or its emulator went away)"))

        case (.awaitingAutoboot, .matched(let index, _, _)):
            if index == 0 {
                state = .awaitingBootloaderPrompt
                return .send(settings?.interrupt ?? " ", characterDelayMilliseconds: 0)
            }
            return sendCommand(0)

        case (.awaitingBootloaderPrompt, .sent):
            return .expect([bootloaderPrompt], deadline: stageDeadline)

        case (.awaitingBootloaderPrompt, .matched):
            return sendCommand(0)

        case (.sendingCommand(let index), .sent):
            state = .awaitingCommandAnswer(index)
            if commands[index].kind == .boot {
                state = .awaitingKernelStart
                return .expect([.literal("Starting kernel"), bootloaderPrompt] + kernelPatterns, deadline: stageDeadline)
            }
            return .expect([bootloaderPrompt], deadline: stageDeadline)

        case (.awaitingCommandAnswer(let index), .matched(_, let output, _)):
            switch UBootAnswer.judge(commands[index], output: output) {
            case .ok:
                return sendCommand(index + 1)
            case .infrastructureError(let reason):
                return finish(BootVerdict(status: .error, stage: .bootloader, reason: reason))
            case .bootFailed(let reason):
                return finish(BootVerdict(status: .fail, stage: .bootloader, reason: reason))
            }

        case (.awaitingKernelStart, .matched(let index, let output, let time)):
            if index == 1 {
                let command = commands.last { $0.kind == .boot } ?? UBootCommand("boot", kind: .boot)
                switch UBootAnswer.judge(command, output: output) {
                case .infrastructureError(let reason):
                    return finish(BootVerdict(status: .error, stage: .bootloader, reason: reason))
                case .bootFailed(let reason):
                    return finish(BootVerdict(status: .fail, stage: .bootloader, reason: reason))
                case .ok:
                    return finish(BootVerdict(status: .fail, stage: .bootloader, reason: "the boot command returned to the U-Boot prompt"))
                }
            }
            stage = .kernel
            stageDeadline = time + timeouts.kernel
            state = .watchingKernel
            if index == 0 { return .expect(kernelPatterns, deadline: stageDeadline) }
            return kernelMatched(index - 2, at: time)

        case (.watchingKernel, .matched(let index, _, let time)):
            return kernelMatched(index, at: time)

        case (.collectingPanic, .matched), (.collectingPanic, .timedOut):
            return finish(BootVerdict(status: .fail, stage: stage, reason: "Kernel panic"))

        case (_, .timedOut):
            let timeout = timeouts[stage == .power ? .kernel : stage] + (stage == .power ? timeouts.power : 0)
            let waitingFor: String
            switch state {
            case .awaitingAutoboot: waitingFor = "waiting for U-Boot's autoboot prompt"
            case .awaitingBootloaderPrompt, .awaitingCommandAnswer: waitingFor = "waiting for the U-Boot prompt"
            case .awaitingKernelStart: waitingFor = "waiting for the kernel to start"
            case .watchingKernel where stage == .power: waitingFor = "waiting for kernel output"
            default: waitingFor = "waiting for the shell prompt '\(promptSource)'"
            }
            // U-Boot not answering is the lab's fault; a kernel that never gets going is not.
            let status: BootStatus
            switch state {
            case .awaitingAutoboot, .awaitingBootloaderPrompt, .awaitingCommandAnswer: status = .error
            default: status = .fail
            }
            return finish(
                BootVerdict(
                    status: status, stage: stage, reason: "timeout in \(stage.rawValue) after \(Self.format(timeout)) s \(waitingFor)",
                    timedOut: true))

        default:
            return finish(BootVerdict(status: .error, stage: stage, reason: "internal: unexpected \(event) in \(state)"))
        }
    }

    private mutating func sendCommand(_ index: Int) -> Action {
        guard index < commands.count else {
            return finish(BootVerdict(status: .error, stage: .bootloader, reason: "the board type gave U-Boot no boot command"))
        }
        state = .sendingCommand(index)
        return .send(commands[index].text + "\n", characterDelayMilliseconds: settings?.characterDelayMilliseconds ?? 0)
    }

    private mutating func kernelMatched(_ index: Int, at time: Double) -> Action {
        switch KernelPattern(rawValue: index) {
        case .shellPrompt:
            stage = .prompt
            return finish(BootVerdict(status: .pass, stage: .prompt))
        case .panic:
            state = .collectingPanic
            return .expect([.literal("---[ end Kernel panic")], deadline: time + panicGraceSeconds)
        case .linuxVersion, .bootingLinux:
            if stage < .kernel {
                stage = .kernel
                stageDeadline = time + timeouts.kernel
            }
        case .runInit, .freeingMemory:
            if stage < .userspace {
                stage = .userspace
                stageDeadline = time + timeouts.userspace
            }
        case nil:
            break
        }
        return .expect(kernelPatterns, deadline: stageDeadline)
    }

    private mutating func finish(_ verdict: BootVerdict) -> Action {
        state = .finished
        return .finish(verdict)
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(format: "%.1f", seconds)
    }
}
