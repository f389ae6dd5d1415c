import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Switches power by running shell commands, as LAVA device dictionaries do with
/// `power_on_command`, `power_off_command` and `hard_reset_command`.
///
/// Each command runs as `/bin/sh -c COMMAND` in its own process group, with standard input from
/// `/dev/null` and its output kept for error messages. A command that outlives `timeoutSeconds`
/// is killed with its whole process group; a failed or killed command is run again, `attempts`
/// times in all. Background processes a command leaves running after it exited are left alone
/// (a power-on command may start a daemon on purpose).
public struct CommandPowerSwitch: PowerSwitch {
    /// The command that powers the board on.
    public let onCommand: String
    /// The command that powers the board off.
    public let offCommand: String
    /// The command that power-cycles the board; nil: `off`, `cycleDelaySeconds`, `on`.
    public let cycleCommand: String?
    /// Seconds one run of a command may take before its process group is killed. Default 30.
    public var timeoutSeconds: Double
    /// Runs of a command in all before its failure is reported. Default 3.
    public var attempts: Int
    /// Seconds between two runs of a failing command. Default 1.
    public var retryDelaySeconds: Double
    /// Seconds between off and on when there is no cycle command. Default 1.
    public var cycleDelaySeconds: Double
    /// Lines of a failed command's output quoted in its error. Default 5.
    public var outputLines: Int

    /// A switch running `onCommand`, `offCommand` and (when given) `cycleCommand`.
    public init(
        onCommand: String, offCommand: String, cycleCommand: String? = nil, timeoutSeconds: Double = 30,
        attempts: Int = 3, retryDelaySeconds: Double = 1, cycleDelaySeconds: Double = 1, outputLines: Int = 5
    ) {
        self.onCommand = onCommand
        self.offCommand = offCommand
        self.cycleCommand = cycleCommand
        self.timeoutSeconds = timeoutSeconds
        self.attempts = max(1, attempts)
        self.retryDelaySeconds = retryDelaySeconds
        self.cycleDelaySeconds = cycleDelaySeconds
        self.outputLines = outputLines
    }

    public func on() async throws { try await run(onCommand, role: "power-on") }

    public func off() async throws { try await run(offCommand, role: "power-off") }

    public func cycle() async throws {
        if let cycleCommand {
            try await run(cycleCommand, role: "power-cycle")
        } else {
            try await off()
            try await Task.sleep(for: .seconds(cycleDelaySeconds))
            try await on()
        }
    }

    /// Always `.unknown`: the commands only switch, they do not report.
    public func state() async throws -> PowerState { .unknown }

    /// Runs `command` until it exits with status 0, at most `attempts` times.
    ///
    /// - Throws: `PowerError.exitedEarly` with the command, its exit status (negative: the signal
    ///   that killed it) and the last `outputLines` lines of its output; `PowerError.timeout` when
    ///   its last run was killed for lasting longer than `timeoutSeconds`.
    public func run(_ command: String, role: String) async throws {
        var attempt = 1
        while true {
            do {
                try await runOnce(command, name: name(of: command, role: role, attempt: attempt))
                return
            } catch is PowerError where attempt < attempts {
                attempt += 1
                try await Task.sleep(for: .seconds(retryDelaySeconds))
            }
        }
    }

    private func name(of command: String, role: String, attempt: Int) -> String {
        let name = "\(role) command `\(command)`"
        return attempts > 1 ? "\(name) (attempt \(attempt) of \(attempts))" : name
    }

    private func runOnce(_ command: String, name: String) async throws {
        let logPath = (NSTemporaryDirectory() as NSString).appendingPathComponent("bootfarm-power-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let child = try ChildProcess.launch("/bin/sh", ["-c", command], logPath: logPath)
        guard await child.waitForExit(seconds: timeoutSeconds) else {
            // The shell leads its own process group (ChildProcess starts every child so): killing
            // the group also stops what the command started, such as a hung `ssh` or `sleep`.
            kill(-child.pid, SIGKILL)
            _ = await child.waitForExit(seconds: 5)
            throw PowerError.timeout(what: name, seconds: timeoutSeconds)
        }
        let status = child.status ?? -1
        guard status == 0 else {
            throw PowerError.exitedEarly(program: name, status: status, output: outputTail(logPath))
        }
    }

    /// The last `outputLines` non-empty lines of the command's output, joined with " | ".
    private func outputTail(_ logPath: String) -> String {
        guard let data = FileManager.default.contents(atPath: logPath) else { return "" }
        let lines = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        return lines.suffix(outputLines).joined(separator: " | ")
    }
}
