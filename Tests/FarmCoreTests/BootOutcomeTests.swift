import Testing

@testable import FarmCore

@Suite("Boot outcomes: the verdict refined by the log")
struct BootOutcomeTests {
    static func event(_ kind: KernelEvent.Kind, _ message: String, stage: Stage) -> KernelEvent {
        KernelEvent(kind: kind, lineIndex: 300, message: message, stage: stage, timeSeconds: 1.4)
    }

    static func analysis(stage: Stage, fatal: [KernelEvent] = [], warnings: [KernelEvent] = []) -> LogAnalysis {
        var analysis = LogAnalysis()
        analysis.stage = stage
        analysis.fatalEvents = fatal
        analysis.warnings = warnings
        return analysis
    }

    @Test func aFatalKernelEventOverridesAPass() {
        let oops = Self.event(.oops, "Internal error: Oops: 96000004 [#1] SMP", stage: .kernel)
        let outcome = BootOutcome.resolve(
            BootVerdict(status: .pass, stage: .prompt), analysis: Self.analysis(stage: .prompt, fatal: [oops]), consoleBytes: 20_000)
        #expect(outcome == BootOutcome(status: .fail, stage: .kernel, reason: "Internal error: Oops: 96000004 [#1] SMP"))
    }

    @Test func aPanicNamesItsLineAsTheReasonOfAFailure() {
        let panic = Self.event(.panic, "Kernel panic - not syncing: Attempted to kill init! exitcode=0x00000100", stage: .userspace)
        let outcome = BootOutcome.resolve(
            BootVerdict(status: .fail, stage: .userspace, reason: "Kernel panic"),
            analysis: Self.analysis(stage: .userspace, fatal: [panic]),
            consoleBytes: 19_755)
        #expect(outcome.status == .fail)
        #expect(outcome.stage == .userspace)
        #expect(outcome.reason.hasPrefix("Kernel panic - not syncing: Attempted to kill init!"))
    }

    @Test func theFirstFatalEventIsTheReason() {
        let bug = Self.event(.bug, "BUG: kernel NULL pointer dereference, address: 0000000000000000", stage: .kernel)
        let panic = Self.event(.panic, "Kernel panic - not syncing: Fatal exception", stage: .kernel)
        let outcome = BootOutcome.resolve(
            BootVerdict(status: .fail, stage: .kernel), analysis: Self.analysis(stage: .kernel, fatal: [bug, panic]), consoleBytes: 1)
        #expect(outcome.reason == bug.message)
    }

    @Test func warningsAloneDoNotFailABoot() {
        let warning = Self.event(.warning, "WARNING: CPU: 0 PID: 1 at x", stage: .kernel)
        let outcome = BootOutcome.resolve(
            BootVerdict(status: .pass, stage: .prompt), analysis: Self.analysis(stage: .userspace, warnings: [warning]), consoleBytes: 10)
        #expect(outcome == BootOutcome(status: .pass, stage: .prompt, reason: ""))
    }

    @Test func aTimeoutWithNoConsoleOutputIsAnInfrastructureErrorAtPower() {
        let verdict = BootVerdict(
            status: .fail, stage: .power, reason: "timeout in power after 75 s waiting for kernel output", timedOut: true)
        let outcome = BootOutcome.resolve(verdict, analysis: Self.analysis(stage: .power), consoleBytes: 0)
        #expect(
            outcome
                == BootOutcome(
                    status: .error, stage: .power, reason: "no console output: timeout in power after 75 s waiting for kernel output"))
    }

    @Test func aTimeoutAfterSomeOutputStaysAFailureAtTheFurthestStage() {
        let verdict = BootVerdict(status: .fail, stage: .kernel, reason: "timeout in kernel after 60 s", timedOut: true)
        let outcome = BootOutcome.resolve(verdict, analysis: Self.analysis(stage: .userspace), consoleBytes: 14_796)
        #expect(outcome == BootOutcome(status: .fail, stage: .userspace, reason: "timeout in kernel after 60 s"))
    }

    @Test func aFailureThatIsNotATimeoutIsNotTurnedIntoAnErrorBySilence() {
        let verdict = BootVerdict(status: .fail, stage: .bootloader, reason: "Bad Linux ARM64 Image magic!")
        let outcome = BootOutcome.resolve(verdict, analysis: Self.analysis(stage: .power), consoleBytes: 0)
        #expect(outcome == BootOutcome(status: .fail, stage: .bootloader, reason: "Bad Linux ARM64 Image magic!"))
    }

    @Test(arguments: [BootStatus.error, .canceled])
    func errorsAndCancellationsStandEvenWithAFatalEvent(_ status: BootStatus) {
        let panic = Self.event(.panic, "Kernel panic - not syncing: boom", stage: .kernel)
        let verdict = BootVerdict(status: status, stage: .bootloader, reason: "tftpboot Image: TFTP error", timedOut: true)
        let outcome = BootOutcome.resolve(verdict, analysis: Self.analysis(stage: .kernel, fatal: [panic]), consoleBytes: 0)
        #expect(outcome.status == status)
        #expect(outcome.reason == "tftpboot Image: TFTP error")
        #expect(outcome.stage == .kernel)
    }

    @Test func anErrorKeepsTheVerdictsStageWhenTheLogIsBehind() {
        let verdict = BootVerdict(status: .error, stage: .bootloader, reason: "console closed")
        let outcome = BootOutcome.resolve(verdict, analysis: Self.analysis(stage: .power), consoleBytes: 0)
        #expect(outcome.stage == .bootloader)
    }
}
