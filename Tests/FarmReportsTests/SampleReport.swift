import FarmCore
import FarmReports

/// A history of ten boards in three labs over seven revisions whose report at the last revision
/// has every section: new and old boot regressions, a conflict, boot time, energy, kernel size and
/// warning regressions, a fix, a failure that never passed, two flaky boards and an offline one.
enum SampleReport {
    typealias Slot = BootHistory.Slot

    static let beagleboneBlack = Slot(
        lab: "lab-a", board: "beaglebone-black-1", boardType: "beaglebone-black", arch: "arm", defconfig: "multi_v7_defconfig")
    static let qemuArm = Slot(lab: "lab-c", board: "qemu-arm-1", boardType: "qemu-arm-virt", arch: "arm", defconfig: "multi_v7_defconfig")
    static let sabrelite = Slot(
        lab: "lab-a", board: "imx6q-sabrelite-1", boardType: "imx6q-sabrelite", arch: "arm", defconfig: "multi_v7_defconfig")
    static let minnowboard = Slot(
        lab: "lab-a", board: "minnowboard-1", boardType: "minnowboard-turbot", arch: "x86_64", defconfig: "x86_64_defconfig")
    static let qemuX86Offline = Slot(
        lab: "lab-c", board: "qemu-x86-2", boardType: "qemu-x86_64", arch: "x86_64", defconfig: "x86_64_defconfig")
    static let upSquared = Slot(lab: "lab-c", board: "up-squared-1", boardType: "up-squared", arch: "x86_64", defconfig: "x86_64_defconfig")

    static let history: BootHistory = {
        var history = BootHistory(revisions: 7)
        history.boots(.rock5bLabA, "PPPPPPF")
        history.boots(.rock5bLabB, "PPPPPPP")
        let bootTimes = [5.00, 5.02, 4.98, 5.01, 4.99, 5.00, 6.0]
        for (index, seconds) in bootTimes.enumerated() {
            history.boot(
                .qemuArm64, at: index, .pass, bootTimeSeconds: seconds, kernelImageSizeBytes: index == 6 ? 23_700_000 : 23_000_000)
        }
        history.boots(beagleboneBlack, "PPFFFFF", reason: "timeout in kernel after 60 s")
        history.boots(qemuArm, "PPPPFFP", reason: "kernel panic: Attempted to kill init!")
        history.boots(sabrelite, "FFFFFFF", reason: "kernel panic: VFS: Unable to mount root fs on unknown-block(0,0)")
        let joules = [30.0, 30.2, 29.8, 30.1, 29.9, 30.0, 36.5]
        for (index, energy) in joules.enumerated() {
            history.boot(minnowboard, at: index, .pass, energyJoules: energy, warnings: index == 6 ? 3 : 0)
        }
        history.boots(.qemuX86, "PFPFPFP")
        history.boots(qemuX86Offline, "PPPPPPE")
        history.boots(upSquared, "PPPPPPM", reason: "timeout in userspace after 120 s")
        return history
    }()

    static let report = history.report()
}
