import CFarmShims
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with the parent-death signal set: if bootfarm dies, even by SIGKILL,
/// the kernel kills the child too, so no emulator outlives the command.
///
/// `PR_SET_PDEATHSIG` fires when the *thread* that forked the child exits, so every child is
/// forked from one launcher thread that lives as long as the process.
public final class ChildProcess: @unchecked Sendable {
    /// The process id.
    public let pid: Int32
    /// The program's path.
    public let program: String
    private let lock = NSLock()
    private var exitStatus: Int32?

    private init(pid: Int32, program: String) {
        self.pid = pid
        self.program = program
    }

    /// Finds `name` in `PATH` (or checks it, when it holds a `/`).
    public static func locate(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Starts `program` with `arguments`, standard output and error appended to `logPath`.
    public static func launch(_ program: String, _ arguments: [String], logPath: String) throws -> ChildProcess {
        try Launcher.shared.launch(program, arguments, logPath: logPath)
    }

    /// True until the process has exited (and been reaped).
    public var isRunning: Bool {
        lock.lock()
        defer { lock.unlock() }
        if exitStatus != nil { return false }
        var status: Int32 = 0
        let result = waitpid(pid, &status, WNOHANG)
        if result == pid {
            exitStatus = Self.decode(status)
            return false
        }
        if result < 0 && errno == ECHILD {
            exitStatus = -1
            return false
        }
        return true
    }

    /// The exit status once exited (negative: killed by that signal).
    public var status: Int32? {
        _ = isRunning
        return lock.withLock { exitStatus }
    }

    /// Sends `signal`.
    public func signal(_ signal: Int32) {
        if isRunning { kill(pid, signal) }
    }

    /// Waits up to `seconds` for the process to exit; true if it did.
    public func waitForExit(seconds: Double) async -> Bool {
        let deadline = BootClock.monotonicNanoseconds() + Int64(seconds * 1e9)
        while isRunning {
            if BootClock.monotonicNanoseconds() >= deadline { return false }
            // A cancelled task's sleep returns at once; teardown still has to wait, without spinning.
            if Task.isCancelled {
                usleep(20_000)
            } else {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        return true
    }

    static func decode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : -signal
    }

    /// Forks every child from one thread that never exits (see the type's note).
    private final class Launcher: @unchecked Sendable {
        static let shared = Launcher()
        private let condition = NSCondition()
        private var request: (() -> Void)?

        private init() {
            let thread = Thread { [self] in
                while true {
                    condition.lock()
                    while request == nil { condition.wait() }
                    let work = request
                    request = nil
                    condition.unlock()
                    work?()
                }
            }
            thread.name = "bootfarm process launcher"
            thread.start()
        }

        func launch(_ program: String, _ arguments: [String], logPath: String) throws -> ChildProcess {
            let done = DispatchSemaphore(value: 0)
            nonisolated(unsafe) var outcome: Result<ChildProcess, Error> = .failure(PowerError.programMissing(program: program, hint: ""))
            let work = {
                outcome = Result { try Self.spawn(program, arguments, logPath: logPath) }
                done.signal()
            }
            condition.lock()
            while request != nil {
                condition.unlock()
                usleep(1000)
                condition.lock()
            }
            request = work
            condition.signal()
            condition.unlock()
            done.wait()
            return try outcome.get()
        }

        private static func spawn(_ program: String, _ arguments: [String], logPath: String) throws -> ChildProcess {
            let log = Glibc.open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard log >= 0 else {
                throw PowerError.unexpectedAnswer(what: "cannot create \(logPath)", answer: String(cString: strerror(errno)))
            }
            defer { Glibc.close(log) }
            // setpriv sets PR_SET_PDEATHSIG, then execs the program, which keeps it.
            let wrapper = ChildProcess.locate("setpriv")
            let executable = wrapper ?? program
            let argv = (wrapper != nil ? ["setpriv", "--pdeathsig", "KILL", "--", program] : [program]) + arguments
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, log, 1)
            posix_spawn_file_actions_adddup2(&actions, log, 2)
            // Nothing else of bootfarm's reaches the child: a QEMU holding another board's console
            // PTY, relay port or socket open would keep that end from ever seeing it close.
            let closing = farm_spawn_close_from(&actions, 3)
            guard closing == 0 else {
                throw PowerError.exitedEarly(program: program, status: closing, output: String(cString: strerror(closing)))
            }
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            // Own process group: a Ctrl-C at the terminal reaches bootfarm, which powers off in order.
            // A clean signal state: a child inherits its spawning thread's signal mask, and threads
            // bootfarm starts from Dispatch's workers block nearly every signal, which would leave
            // QEMU or a power command deaf to SIGTERM and SIGINT.
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            posix_spawnattr_setpgroup(&attributes, 0)
            var noSignals = sigset_t()
            sigemptyset(&noSignals)
            posix_spawnattr_setsigmask(&attributes, &noSignals)
            var defaults = sigset_t()
            sigemptyset(&defaults)
            for number in [SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, number) }
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            var cArguments = argv.map { strdup($0) } + [nil]
            defer { for argument in cArguments { free(argument) } }
            var pid: pid_t = 0
            let result = posix_spawn(&pid, executable, &actions, &attributes, &cArguments, environ)
            guard result == 0 else {
                throw PowerError.exitedEarly(program: program, status: result, output: String(cString: strerror(result)))
            }
            return ChildProcess(pid: pid, program: program)
        }
    }
}
