import ArgumentParser
import FarmAgent
import FarmCore
import FarmStore
import Foundation

struct BootCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Boot a kernel once on a board of a lab and record the result.",
        discussion: """
            Exit status: 0 pass, 1 fail (the kernel or board failed), 3 infrastructure error \
            (power, console, TFTP, emulator), 2 usage or configuration error.
            """
    )

    @Option(help: "The lab file (YAML).")
    var lab: String

    @Option(help: "The board to boot, by its name in the lab file.")
    var board: String

    @Option(help: "Kernel image to boot.")
    var kernel: String

    @Option(help: "Ramdisk (initramfs) to boot with the kernel.")
    var ramdisk: String?

    @Option(help: "Device tree blob (default: the one the firmware provides).")
    var dtb: String?

    @Option(help: "Shell prompt pattern (regular expression), overriding the board type's.")
    var prompt: String?

    @Option(help: "Extra kernel command-line arguments.")
    var bootargs: String = ""

    @Option(name: .customLong("timeout"), help: ArgumentHelp("Per-stage timeout override, repeatable.", valueName: "stage=seconds"))
    var timeouts: [String] = []

    @Option(help: "Kernel tree, such as mainline or next.") var tree: String = ""
    @Option(help: "Branch of the tree.") var branch: String = ""
    @Option(help: "Commit hash.") var commit: String = ""
    @Option(help: "git describe of the commit.") var describe: String = ""
    @Option(help: "Commit time (ISO-8601).") var commitTime: String?
    @Option(help: "Kernel architecture (default: the board type's).") var arch: String = ""
    @Option(help: "Kernel defconfig.") var defconfig: String = ""
    @Option(help: "Compiler that built the kernel.") var compiler: String = ""

    @Option(help: "Results store (SQLite file); default under the user's data directory.")
    var db: String?

    @OptionGroup var upload: ServerOptions

    @Flag(help: "Print the boot record as JSON on standard output.")
    var json = false

    @Flag(name: .shortAndLong, help: "Print no progress, only the result.")
    var quiet = false

    @Flag(name: .shortAndLong, help: "Print the board's console output to standard error after the boot.")
    var verbose = false

    func validate() throws {
        if quiet && verbose { throw ValidationError("--quiet and --verbose contradict each other; use one") }
        _ = try parsedTimeouts()
    }

    func parsedTimeouts() throws -> [Stage: Double] {
        var result: [Stage: Double] = [:]
        for item in timeouts {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let stage = Stage(rawValue: parts[0]), stage <= .userspace else {
                throw ValidationError("--timeout '\(item)': expected STAGE=SECONDS with STAGE one of power, bootloader, kernel, userspace")
            }
            guard let seconds = Double(parts[1]), seconds > 0, seconds.isFinite else {
                throw ValidationError("--timeout '\(item)': seconds must be a positive number")
            }
            result[stage] = seconds
        }
        return result
    }

    func run() async throws {
        let labConfig = try loadLab(lab)
        guard let boardConfig = labConfig.board(named: board) else {
            throw CLIError.usage(
                "no board '\(board)' in lab \(labConfig.name) (\(lab))",
                detail: "boards: \(labConfig.boards.map(\.name).joined(separator: ", "))")
        }
        for (flag, path) in [("--kernel", Optional(kernel)), ("--ramdisk", ramdisk), ("--dtb", dtb)] {
            guard let path else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw CLIError.usage(
                    "\(flag) \(path): no such file",
                    detail: "nothing was powered; check the path (scripts/kit builds the test kernels into .kit/)")
            }
        }
        if let prompt {
            do { _ = try ConsolePattern.regex(prompt) } catch { throw CLIError.usage("--prompt: \(error)") }
        }
        let storePath = db ?? ResultStore.defaultPath
        let store: ResultStore
        do { store = try ResultStore(path: storePath) } catch { throw CLIError.usage("\(error)", detail: "choose another file with --db") }
        // Read before anything is powered: a bad token file is a configuration error.
        let uploader = try upload.uploader(for: labConfig, store: store)

        let job = BootJob(
            kernel: kernel, ramdisk: ramdisk, dtb: dtb, prompt: prompt, extraBootArguments: bootargs,
            timeouts: try parsedTimeouts(),
            revision: Revision(tree: tree, branch: branch, commit: commit, describe: describe, commitTime: commitTime),
            build: Build(arch: arch, defconfig: defconfig, compiler: compiler))
        let runner = JobRunner(lab: labConfig.name, board: boardConfig, job: job)
        let showProgress = !quiet
        let boardName = boardConfig.name
        if showProgress { printError("booting \(boardName) (\(boardConfig.type.name)) in lab \(labConfig.name)") }

        let task = Task { await runner.run(progress: { event in if showProgress { ProgressPrinter.print(event) } }) }
        let trap = SignalTrap { task.cancel() }
        let result = await task.value
        trap.disarm()

        do {
            try store.insert(result.record, log: result.transcript, power: result.power, outbox: uploader?.server)
        } catch {
            throw CLIError.infrastructure("the boot finished (\(result.record.status.rawValue)) but could not be stored: \(error)")
        }
        if let power = result.power, !quiet {
            let stages = Stage.allCases.compactMap { stage in
                power.stageEnergyJoules[stage].map { String(format: "%@ %.2f J", stage.rawValue, $0) }
            }
            printError("power: \(power.trace.count) samples, \(stages.joined(separator: ", ")), \(power.lostSamples) lost")
            for warning in power.warnings { printError("power meter warning: \(warning)") }
        }
        if verbose {
            FileHandle.standardError.write(Data(result.transcript.bytes))
            printError("")
        }
        let record = result.record
        if json {
            print(JSONOutput.text(record.jsonObject, pretty: true))
        } else {
            print(ResultLine.text(record))
            if !quiet { printError("recorded as \(record.id) in \(storePath)") }
        }
        if let uploader { await share(record, with: uploader) }
        throw ExitCode(record.status.exitCode)
    }
}

/// One line that sums up a boot.
enum ResultLine {
    static func text(_ record: BootRecord) -> String {
        var line = "\(record.status.rawValue) \(record.board) stage=\(record.stage.rawValue)"
        if let bootTime = record.bootTimeSeconds { line += String(format: " boot_time=%.2fs", bootTime) }
        if let reached = record.stageTimes[.prompt] { line += String(format: " prompt_at=%.2fs", reached) }
        if record.warnings > 0 { line += " warnings=\(record.warnings)" }
        if let energy = record.energyJoules { line += String(format: " energy=%.2fJ", energy) }
        if let peak = record.peakPowerWatts { line += String(format: " peak=%.2fW", peak) }
        if !record.reason.isEmpty { line += " reason=\"\(record.reason)\"" }
        return line
    }
}

/// Prints boot progress to standard error: one line per stage or command, with elapsed time.
enum ProgressPrinter {
    static func print(_ event: BootProgress) {
        switch event {
        case .stage(let stage, let seconds, let detail):
            printError(String(format: "%7.2fs  %@", seconds, detail.isEmpty ? stage.rawValue : "\(stage.rawValue): \(detail)"))
        case .command(let command, let seconds):
            printError(String(format: "%7.2fs    > %@", seconds, command))
        case .note(let note, let seconds):
            printError(String(format: "%7.2fs  %@", seconds, note))
        }
    }
}
