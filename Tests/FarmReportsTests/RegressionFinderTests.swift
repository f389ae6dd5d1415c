import FarmCore
import FarmReports
import Testing

@Suite struct RegressionFinderTests {
    typealias Slot = BootHistory.Slot

    // MARK: Boot regressions

    @Test func persistentFailureIsOneBootRegressionFailingSinceItsFirstFailure() {
        var history = BootHistory(revisions: 6)
        history.boots(.rock5bLabA, "PPPFFF")
        let report = history.report()

        #expect(report.regressions.count == 1)
        let finding = report.regressions.first
        #expect(finding?.kind == .boot)
        #expect(finding?.key.board == "rock5b-1")
        #expect(finding?.isNew == false)
        #expect(finding?.firstBad == history.revisions[3])
        #expect(finding?.lastGood == history.revisions[2])
        #expect(finding?.detail == BootHistory.failureReason)
        #expect(finding?.bootID == history.boots.last?.id)
        #expect(report.otherFailures.isEmpty && report.fixed.isEmpty && report.flaky.isEmpty)
    }

    @Test func firstFailingRevisionReportsTheRegressionAsNew() {
        var history = BootHistory(revisions: 6)
        history.boots(.rock5bLabA, "PPPFFF")
        let report = history.report(upTo: 3)

        #expect(report.revision == history.revisions[3])
        #expect(report.previous == history.revisions[2])
        #expect(report.bootRegressions.count == 1)
        #expect(report.bootRegressions.first?.isNew == true)
        #expect(report.bootRegressions.first?.firstBad == history.revisions[3])
        #expect(report.bootRegressions.first?.lastGood == history.revisions[2])
    }

    @Test func passAfterAFailureStreakIsFixedSinceTheStartOfTheStreak() {
        var history = BootHistory(revisions: 6)
        history.boots(.rock5bLabA, "PPFFFP")
        let report = history.report()

        #expect(report.fixed.count == 1)
        #expect(report.fixed.first?.kind == .fixed)
        #expect(report.fixed.first?.firstBad == history.revisions[2])
        #expect(report.fixed.first?.detail == BootHistory.failureReason)
        #expect(report.regressions.isEmpty)
        #expect(report.flaky.isEmpty)
    }

    @Test func passAfterPassesIsNotFixed() {
        var history = BootHistory(revisions: 4)
        history.boots(.rock5bLabA, "FPPP")
        let report = history.report()
        #expect(report.fixed.isEmpty)
        #expect(report.regressions.isEmpty)
    }

    // MARK: Flakiness

    @Test(arguments: ["PFPFPF", "FPFPFP", "PFPFPFP"])
    func alternatingKeyIsFlakyAndNeitherRegressionNorFixed(pattern: String) {
        var history = BootHistory(revisions: pattern.count)
        history.boots(.qemuX86, pattern)
        let report = history.report()

        #expect(report.flaky.count == 1)
        #expect(report.flaky.first?.kind == .flaky)
        #expect(report.flaky.first?.key.board == "qemu-x86-1")
        #expect(report.regressions.isEmpty)
        #expect(report.fixed.isEmpty)
        #expect(report.otherFailures.isEmpty)
        #expect(report.conflicts.isEmpty)
    }

    @Test func twoChangesAreBelowTheFlakyThreshold() {
        var history = BootHistory(revisions: 3)
        history.boots(.qemuX86, "PFP")
        let report = history.report()
        #expect(report.flaky.isEmpty)
        #expect(report.fixed.count == 1)
    }

    @Test func changesOlderThanTheWindowDoNotMakeAKeyFlaky() {
        var settings = RegressionSettings()
        settings.historyRevisions = 3
        var history = BootHistory(revisions: 8)
        history.boots(.qemuX86, "PFPFPPPF")
        let report = history.report(settings: settings)
        #expect(report.flaky.isEmpty)
        #expect(report.bootRegressions.count == 1)
        #expect(report.bootRegressions.first?.isNew == true)
    }

    @Test func retriesThatPassAndFailAtOneRevisionAreFlaky() {
        var history = BootHistory(revisions: 3)
        history.boots(.qemuX86, "PPM")
        let report = history.report()

        #expect(report.flaky.count == 1)
        #expect(report.flaky.first?.detail.contains("retries") == true)
        #expect(report.regressions.isEmpty)
        #expect(report.fixed.isEmpty)
        #expect(report.otherFailures.isEmpty)
        #expect(report.boots == 2)
        #expect(report.passed == 1)
        #expect(report.failed == 1)
        #expect(report.boards == 1)
    }

    // MARK: Infrastructure errors

    @Test func errorBetweenAPassAndAFailIsSkipped() {
        var history = BootHistory(revisions: 4)
        history.boots(.rock5bLabA, "PPEF")
        let report = history.report()

        #expect(report.bootRegressions.count == 1)
        let finding = report.bootRegressions.first
        #expect(finding?.lastGood == history.revisions[1])
        #expect(finding?.firstBad == history.revisions[3])
        #expect(finding?.isNew == true)
        #expect(report.offline.isEmpty)
    }

    @Test func errorInsideAFailureStreakDoesNotRestartIt() {
        var history = BootHistory(revisions: 5)
        history.boots(.rock5bLabA, "PFEFF")
        let report = history.report()

        #expect(report.bootRegressions.first?.isNew == false)
        #expect(report.bootRegressions.first?.firstBad == history.revisions[1])
        #expect(report.bootRegressions.first?.lastGood == history.revisions[0])
    }

    @Test func errorOnlyRevisionIsOfflineAndNotAFailure() {
        var history = BootHistory(revisions: 3)
        history.boots(.rock5bLabA, "PPE")
        let report = history.report()

        #expect(report.offline.count == 1)
        #expect(report.offline.first?.kind == .error)
        #expect(report.offline.first?.detail == BootHistory.errorReason)
        #expect(report.regressions.isEmpty)
        #expect(report.otherFailures.isEmpty)
        #expect(report.conflicts.isEmpty)
        #expect(report.failed == 0)
        #expect(report.errors == 1)
        #expect(report.boots == 1)
        #expect(report.boards == 1)
    }

    @Test func errorAndFailureAtOneRevisionIsAFailure() {
        var history = BootHistory(revisions: 2)
        history.boots(.rock5bLabA, "PE")
        history.boot(.rock5bLabA, at: 1, .fail)
        let report = history.report()
        #expect(report.bootRegressions.count == 1)
        #expect(report.offline.isEmpty)
    }

    // MARK: Conflicts

    @Test func failureInOneLabWhileTheSameBoardTypePassesInAnotherIsAConflict() {
        var history = BootHistory(revisions: 3)
        history.boots(.rock5bLabA, "PPF")
        history.boots(.rock5bLabB, "PPP")
        // Passes that must not count: another board type, and another build of the same type.
        history.boots(.qemuArm64, "PPP")
        var otherBuild = Slot.rock5bLabB
        otherBuild.lab = "lab-c"
        otherBuild.defconfig = "defconfig+debug"
        history.boots(otherBuild, "PPP")
        let report = history.report()

        #expect(report.conflicts.count == 1)
        let conflict = report.conflicts.first
        #expect(conflict?.kind == .conflict)
        #expect(conflict?.key.lab == "lab-a")
        #expect(conflict?.key.board == "rock5b-1")
        #expect(conflict?.otherLabs == ["lab-b"])
        #expect(conflict?.detail == BootHistory.failureReason)
        // The failure is still a boot regression of its own key.
        #expect(report.bootRegressions.map(\.key.lab) == ["lab-a"])
    }

    @Test func failureThatFailsInEveryLabIsNoConflict() {
        var history = BootHistory(revisions: 2)
        history.boots(.rock5bLabA, "PF")
        history.boots(.rock5bLabB, "PF")
        let report = history.report()
        #expect(report.conflicts.isEmpty)
        #expect(report.bootRegressions.count == 2)
    }

    // MARK: Measurements

    @Test func bootTimeStepBeyondNoiseIsReportedAndNoisyButStableTimeIsNot() {
        let steady: [Double] = [5.00, 5.02, 4.98, 5.01, 4.99, 5.00, 6.0]
        let noisy: [Double] = [9.0, 11.0, 10.0, 9.5, 10.5, 11.0, 11.2]
        var history = BootHistory(revisions: steady.count)
        for index in steady.indices {
            history.boot(.qemuArm64, at: index, .pass, bootTimeSeconds: steady[index])
            history.boot(.qemuX86, at: index, .pass, bootTimeSeconds: noisy[index])
        }
        let report = history.report()

        let bootTime = report.regressions.filter { $0.kind == .bootTime }
        #expect(bootTime.map(\.key.board) == ["qemu-arm64-1"])
        #expect(bootTime.first?.value == 6.0)
        #expect(bootTime.first?.baseline == 5.0)
        #expect(bootTime.first?.unit == "s")
        #expect(bootTime.first?.firstBad == history.revisions[6])
        #expect(bootTime.first?.lastGood == history.revisions[5])
        #expect(bootTime.first?.detail == "boot time 6 s, median of last 6 passes 5 s (+20 %)")
        #expect(report.bootRegressions.isEmpty)
    }

    @Test func smallRelativeRiseIsNotReportedEvenWhenBeyondNoise() {
        // Almost no noise, but only 4 % slower: below the 10 % relative threshold.
        var history = BootHistory(revisions: 7)
        for index in 0..<6 { history.boot(.qemuArm64, at: index, .pass, bootTimeSeconds: 5.0) }
        history.boot(.qemuArm64, at: 6, .pass, bootTimeSeconds: 5.2)
        #expect(history.report().regressions.isEmpty)
    }

    @Test func bootTimeWithTooFewSamplesIsNotJudged() {
        var history = BootHistory(revisions: 5)
        for index in 0..<4 { history.boot(.qemuArm64, at: index, .pass, bootTimeSeconds: 5.0) }
        history.boot(.qemuArm64, at: 4, .pass, bootTimeSeconds: 9.0)
        #expect(history.report().regressions.isEmpty)

        var settings = RegressionSettings()
        settings.minimumSamples = 4
        #expect(history.report(settings: settings).regressions.map(\.kind) == [.bootTime])
    }

    @Test func failedBootsAreNoBootTimeSamples() {
        var history = BootHistory(revisions: 8)
        for index in 0..<3 { history.boot(.qemuArm64, at: index, .pass, bootTimeSeconds: 5.0) }
        for index in 3..<5 { history.boot(.qemuArm64, at: index, .fail, bootTimeSeconds: 5.0) }
        for index in 5..<7 { history.boot(.qemuArm64, at: index, .pass, bootTimeSeconds: 5.0) }
        history.boot(.qemuArm64, at: 7, .pass, bootTimeSeconds: 7.0)
        let report = history.report()
        #expect(report.regressions.map(\.kind) == [.bootTime])
        #expect(report.regressions.first?.detail.contains("median of last 5 passes") == true)
    }

    @Test func energyRiseBeyondNoiseIsReported() {
        let joules: [Double] = [20.0, 20.1, 19.9, 20.0, 20.2, 19.8, 25.0]
        var history = BootHistory(revisions: joules.count)
        for index in joules.indices { history.boot(.qemuArm64, at: index, .pass, energyJoules: joules[index]) }
        let report = history.report()

        #expect(report.regressions.map(\.kind) == [.energy])
        #expect(report.regressions.first?.value == 25.0)
        #expect(report.regressions.first?.baseline == 20.0)
        #expect(report.regressions.first?.unit == "J")
    }

    @Test func energyWithTooFewSamplesIsNotJudged() {
        var history = BootHistory(revisions: 4)
        for index in 0..<3 { history.boot(.qemuArm64, at: index, .pass, energyJoules: 20.0) }
        history.boot(.qemuArm64, at: 3, .pass, energyJoules: 40.0)
        #expect(history.report().regressions.isEmpty)
    }

    @Test func zeroBaselineIsNotJudged() {
        // A power meter that reported nothing for a while: no relative rise can be computed.
        var history = BootHistory(revisions: 7)
        for index in 0..<6 { history.boot(.qemuArm64, at: index, .pass, bootTimeSeconds: 0, energyJoules: 0) }
        history.boot(.qemuArm64, at: 6, .pass, bootTimeSeconds: 4.5, energyJoules: 20)
        #expect(history.report().regressions.isEmpty)
    }

    @Test func kernelGrowthAboveTheThresholdIsReportedPerBuild() {
        var history = BootHistory(revisions: 2)
        // arm64 defconfig: +3 %; x86_64: +1 %.
        history.boot(.qemuArm64, at: 0, .pass, kernelImageSizeBytes: 20_000_000)
        history.boot(.rock5bLabA, at: 0, .pass, kernelImageSizeBytes: 20_000_000)
        history.boot(.qemuArm64, at: 1, .pass, kernelImageSizeBytes: 20_600_000)
        history.boot(.rock5bLabA, at: 1, .pass, kernelImageSizeBytes: 20_600_000)
        history.boot(.qemuX86, at: 0, .pass, kernelImageSizeBytes: 10_000_000)
        history.boot(.qemuX86, at: 1, .pass, kernelImageSizeBytes: 10_100_000)
        let report = history.report()

        #expect(report.regressions.count == 1)
        let finding = report.regressions.first
        #expect(finding?.kind == .kernelSize)
        #expect(finding?.key.arch == "arm64")
        #expect(finding?.key.defconfig == "defconfig")
        #expect(finding?.key.board == "")
        #expect(finding?.key.lab == "")
        #expect(finding?.value == 20_600_000)
        #expect(finding?.baseline == 20_000_000)
        #expect(finding?.unit == "bytes")
        #expect(finding?.lastGood == history.revisions[0])
        #expect(finding?.firstBad == history.revisions[1])
        #expect(finding?.detail == "kernel image 20600000 bytes, 20000000 before (+3 %)")
    }

    @Test func kernelGrowthBelowTheThresholdIsNotReported() {
        var history = BootHistory(revisions: 3)
        history.boot(.qemuArm64, at: 0, .pass, kernelImageSizeBytes: 20_000_000)
        history.boot(.qemuArm64, at: 1, .pass, kernelImageSizeBytes: 20_300_000)
        history.boot(.qemuArm64, at: 2, .pass, kernelImageSizeBytes: 20_600_000)
        #expect(history.report().regressions.isEmpty)
    }

    @Test func moreWarningsThanOnThePreviousRevisionIsReported() {
        var history = BootHistory(revisions: 3)
        history.boot(.qemuX86, at: 0, .pass, warnings: 1)
        history.boot(.qemuX86, at: 1, .pass, warnings: 0)
        history.boot(.qemuX86, at: 2, .pass, warnings: 2)
        history.boot(.qemuArm64, at: 0, .pass, warnings: 3)
        history.boot(.qemuArm64, at: 1, .pass, warnings: 1)
        history.boot(.qemuArm64, at: 2, .pass, warnings: 1)
        let report = history.report()

        #expect(report.regressions.count == 1)
        let finding = report.regressions.first
        #expect(finding?.kind == .warnings)
        #expect(finding?.key.board == "qemu-x86-1")
        #expect(finding?.value == 2)
        #expect(finding?.baseline == 0)
        #expect(finding?.lastGood == history.revisions[1])
        #expect(finding?.detail == "2 kernel warnings, 0 before")
    }

    // MARK: Failures that never passed

    @Test func failureThatNeverPassedIsAnOtherFailureNotARegression() {
        var history = BootHistory(revisions: 4)
        history.boots(.rock5bLabA, "FFFF")
        history.boots(.qemuArm64, "---F")
        let report = history.report()

        #expect(report.regressions.isEmpty)
        #expect(report.otherFailures.count == 2)
        let old = report.otherFailures.first { $0.key.board == "rock5b-1" }
        #expect(old?.kind == .failure)
        #expect(old?.isNew == false)
        #expect(old?.firstBad == history.revisions[0])
        #expect(old?.lastGood == nil)
        let new = report.otherFailures.first { $0.key.board == "qemu-arm64-1" }
        #expect(new?.isNew == true)
        #expect(new?.firstBad == history.revisions[3])
    }

    // MARK: Counts and order

    @Test func countsCoverTheReportedRevisionOnly() {
        var history = BootHistory(revisions: 3)
        history.boots(.rock5bLabA, "PPF")
        history.boots(.rock5bLabB, "FFP")
        history.boots(.qemuArm64, "PPE")
        history.boots(.qemuX86, "PP-")
        // A retry: two boots, one board.
        history.boot(.rock5bLabB, at: 2, .pass)
        // A boot of a revision that is not in the list is ignored.
        if var stray = history.boots.last {
            stray.id = "stray"
            stray.revision.describe = "v6.8"
            history.append(stray)
        }
        let report = history.report()

        #expect(report.boots == 4)
        #expect(report.passed == 2)
        #expect(report.failed == 1)
        #expect(report.errors == 1)
        #expect(report.boards == 3)
        #expect(
            TextReport.subject(report) == "mainline/master boot: 4 boots: 1 failed, 2 passed, 1 errors (\(history.revisions[2].describe))")
    }

    @Test func findingsAreSortedByArchThenDefconfigThenBoardThenLab() {
        var history = BootHistory(revisions: 2)
        let slots: [Slot] = [
            Slot(lab: "lab-b", board: "qemu-x86-1", boardType: "qemu-x86_64", arch: "x86_64", defconfig: "x86_64_defconfig"),
            Slot(lab: "lab-b", board: "rock5b-2", boardType: "rock5b-uboot", arch: "arm64", defconfig: "defconfig"),
            Slot(lab: "lab-a", board: "rock5b-2", boardType: "rock5b-uboot", arch: "arm64", defconfig: "defconfig"),
            Slot(lab: "lab-a", board: "beaglebone-black-1", boardType: "beaglebone-black", arch: "arm", defconfig: "omap2plus_defconfig"),
            Slot(lab: "lab-c", board: "qemu-arm-1", boardType: "qemu-arm-virt", arch: "arm", defconfig: "multi_v7_defconfig"),
            Slot(lab: "lab-a", board: "imx6q-sabrelite", boardType: "imx6q-sabrelite", arch: "arm", defconfig: "multi_v7_defconfig"),
            Slot(lab: "lab-a", board: "rock5b-1", boardType: "rock5b-uboot", arch: "arm64", defconfig: "defconfig"),
        ]
        for slot in slots { history.boots(slot, "PF") }
        let report = history.report()

        let order = report.regressions.map { "\($0.key.arch) \($0.key.defconfig) \($0.key.board) \($0.key.lab)" }
        #expect(
            order == [
                "arm multi_v7_defconfig imx6q-sabrelite lab-a",
                "arm multi_v7_defconfig qemu-arm-1 lab-c",
                "arm omap2plus_defconfig beaglebone-black-1 lab-a",
                "arm64 defconfig rock5b-1 lab-a",
                "arm64 defconfig rock5b-2 lab-a",
                "arm64 defconfig rock5b-2 lab-b",
                "x86_64 x86_64_defconfig qemu-x86-1 lab-b",
            ])
        #expect(report.boards == 7)
    }

    @Test func regressionsListBootFailuresBeforeMeasurements() {
        var history = BootHistory(revisions: 2)
        history.boot(.qemuX86, at: 0, .pass, warnings: 0)
        history.boot(.qemuX86, at: 1, .pass, warnings: 4)
        history.boots(.rock5bLabA, "PF")
        let report = history.report()
        #expect(report.regressions.map(\.kind) == [.boot, .warnings])
    }

    @Test func noRevisionsIsNoReport() {
        #expect(RegressionFinder().report(tree: "mainline", branch: "master", revisions: [], boots: []) == nil)
    }
}
