import FarmDrivers
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite struct ChildProcessTests {
    @Test func killedProcessIsReapedWithItsSignal() async throws {
        let folder = try TemporaryFolder()
        let child = try ChildProcess.launch("/bin/sleep", ["30"], logPath: folder.file("sleep.log"))
        #expect(child.pid > 0)
        #expect(child.isRunning)
        #expect(child.status == nil)

        child.signal(SIGKILL)
        #expect(await child.waitForExit(seconds: 5))
        #expect(!child.isRunning)
        #expect(child.status == -SIGKILL)
        #expect(kill(child.pid, 0) == -1 && errno == ESRCH, "the process is reaped, not a zombie")
        // Signalling an exited process is harmless.
        child.signal(SIGTERM)
    }

    @Test("a child starts with no signal blocked, whatever thread started it, so SIGTERM stops it")
    func childStartsWithACleanSignalState() async throws {
        let folder = try TemporaryFolder()
        let log = folder.file("mask.log")
        let probe = try ChildProcess.launch("/bin/sh", ["-c", "grep -E '^Sig(Blk|Ign)' /proc/self/status"], logPath: log)
        #expect(await probe.waitForExit(seconds: 5))
        let status = try String(contentsOfFile: log, encoding: .utf8)
        #expect(status.contains("SigBlk:\t0000000000000000"), "\(status)")
        let sleeper = try ChildProcess.launch("/bin/sleep", ["30"], logPath: folder.file("sleep.log"))
        sleeper.signal(SIGTERM)
        #expect(await sleeper.waitForExit(seconds: 5), "SIGTERM did not stop the child")
        #expect(sleeper.status == -SIGTERM)
    }

    @Test("a child inherits none of bootfarm's descriptors, close-on-exec or not, beyond its standard three")
    func childInheritsNoDescriptors() async throws {
        let folder = try TemporaryFolder()
        // A descriptor opened without O_CLOEXEC, as a PTY from openpty() is.
        let inheritable = Glibc.open(folder.file("held"), O_WRONLY | O_CREAT, 0o644)
        try #require(inheritable > 2)
        defer { Glibc.close(inheritable) }
        let log = folder.file("fds.log")
        let probe = try ChildProcess.launch("/bin/sh", ["-c", "ls /proc/self/fd"], logPath: log)
        #expect(await probe.waitForExit(seconds: 5))
        // ls itself opens one descriptor to read the folder.
        let descriptors = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").compactMap { Int($0) }
        #expect(Set(descriptors).isSubset(of: [0, 1, 2, 3]), "\(descriptors)")
        #expect(!descriptors.contains(Int(inheritable)) || inheritable == 3)
    }

    @Test func exitStatusAndOutputAreRecorded() async throws {
        let folder = try TemporaryFolder()
        let log = folder.file("child.log")
        let child = try ChildProcess.launch("/bin/sh", ["-c", "echo to-stdout; echo to-stderr >&2; exit 3"], logPath: log)
        #expect(await child.waitForExit(seconds: 5))
        #expect(child.status == 3)
        let output = try String(contentsOfFile: log, encoding: .utf8)
        #expect(output.contains("to-stdout"))
        #expect(output.contains("to-stderr"))
    }

    @Test func waitForExitGivesUpAfterItsTimeout() async throws {
        let folder = try TemporaryFolder()
        let child = try ChildProcess.launch("/bin/sleep", ["30"], logPath: folder.file("sleep.log"))
        let started = ContinuousClock.now
        #expect(await child.waitForExit(seconds: 0.2) == false)
        #expect(ContinuousClock.now - started < .seconds(20))
        child.signal(SIGKILL)
        #expect(await child.waitForExit(seconds: 5))
    }

    @Test func locateFindsProgramsInPath() {
        let shell = ChildProcess.locate("sh")
        #expect(shell == "/bin/sh" || shell == "/usr/bin/sh")
        #expect(ChildProcess.locate("/bin/sh") == "/bin/sh")
        #expect(ChildProcess.locate("bootfarm-no-such-program") == nil)
        #expect(ChildProcess.locate("/nonexistent/bin/sh") == nil)
    }
}
