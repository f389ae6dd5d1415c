import ArgumentParser
import FarmCore
import FarmSim
import Foundation

struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulate the hardware of a lab file, or a lab of scripted fake boards.",
        discussion: """
            With --lab, every board powered by an LCUS or Numato relay gets a relay board on a PTY \
            speaking the real protocol (linked at the lab's device path), a QEMU board that runs \
            while its channel is closed, with its UART on a PTY (linked at the console device path), \
            and a hwmon or IIO power sensor at the meter path.

            With --boards N, N scripted fake boards (fake-001, fake-002, ...) answer on PTY consoles \
            like boards running U-Boot and replay a recorded kernel boot at 115200 baud, powered by \
            simulated 32-channel Numato relays; the lab file wiring them is written to --lab-out. \
            --fail MODE=BOARD[,BOARD...] makes boards fail; MODE is one of \
            \(ScriptedBoardFailure.allCases.map(\.rawValue).joined(separator: ", ")).

            Runs until interrupted; boot the boards meanwhile with bootfarm boot --lab FILE.
            """)

    @Option(help: "The lab file whose hardware is simulated.") var lab: String?
    @Option(help: "Simulate this many scripted fake boards instead of a lab file's hardware.") var boards: Int?
    @Option(
        name: .customLong("fail"),
        help: ArgumentHelp("Make scripted boards fail in one way (repeatable).", valueName: "mode=board[,board...]"))
    var failures: [String] = []
    @Option(help: "Where to write the scripted boards' lab file (default: RUN-DIRECTORY/sim-fake.yaml).") var labOut: String?
    @Option(help: "The board types folder the scripted lab file names (default: boards in the current folder).")
    var boardTypes: String?
    @Option(help: "Folder for QEMU sockets and logs, or for the scripted boards' links and TFTP root (default: a temporary folder).")
    var runDirectory: String?

    func validate() throws {
        switch (lab, boards) {
        case (.some, .some):
            throw ValidationError(
                "--boards and --lab contradict each other: simulate either the hardware of a lab file or N scripted boards")
        case (nil, nil):
            throw ValidationError("give --lab FILE to simulate a lab file's hardware, or --boards N for scripted fake boards")
        case (.some, nil):
            if !failures.isEmpty || labOut != nil || boardTypes != nil {
                throw ValidationError("--fail, --lab-out and --board-types apply to scripted boards: use them with --boards, not --lab")
            }
        case (nil, .some(let count)):
            guard count >= 1 else { throw ValidationError("--boards must be at least 1, not \(count)") }
            _ = try Self.failures(from: failures, boardCount: count)
        }
    }

    /// Reads `--fail MODE=BOARD[,BOARD...]` entries into each board's failure.
    static func failures(from entries: [String], boardCount: Int) throws -> [String: ScriptedBoardFailure] {
        var result: [String: ScriptedBoardFailure] = [:]
        let modes = ScriptedBoardFailure.allCases.map(\.rawValue).joined(separator: ", ")
        for entry in entries {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[1].isEmpty else {
                throw ValidationError("--fail '\(entry)': expected MODE=BOARD[,BOARD...], such as panic=fake-003")
            }
            guard let failure = ScriptedBoardFailure(rawValue: parts[0]) else {
                throw ValidationError("--fail '\(entry)': unknown failure mode '\(parts[0])'; expected one of: \(modes)")
            }
            for name in parts[1].split(separator: ",").map(String.init) {
                guard let number = name.hasPrefix("fake-") ? Int(name.dropFirst(5)) : nil, (1...boardCount).contains(number),
                    ScriptedLab.boardName(number, boardCount: boardCount) == name
                else {
                    throw ValidationError(
                        "--fail '\(entry)': no board '\(name)' among \(boardCount) scripted boards "
                            + "(\(ScriptedLab.boardName(1, boardCount: boardCount)) to \(ScriptedLab.boardName(boardCount, boardCount: boardCount)))"
                    )
                }
                if let earlier = result[name], earlier != failure {
                    throw ValidationError("--fail: board '\(name)' is given two failure modes, \(earlier) and \(failure)")
                }
                result[name] = failure
            }
        }
        return result
    }

    func run() async throws {
        let folder = runDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-sim-\(getpid())").path
        if let boards {
            try await runScriptedBoards(count: boards, runDirectory: folder)
            return
        }
        guard let lab else { throw CLIError.usage("give --lab FILE or --boards N") }
        let config = try loadLab(lab, checkDevices: false)
        let simulation: SimulatedLab
        do {
            simulation = try SimulatedLab(lab: config, runDirectory: folder) { board, meter in
                try SimulatedMeters.make(board: board, meter: meter)
            }
        } catch {
            throw CLIError.infrastructure("cannot simulate lab \(config.name): \(error)")
        }
        guard !simulation.boards.isEmpty else {
            throw CLIError.usage(
                "lab \(config.name) has no board to simulate",
                detail: "simulated boards are QEMU board types powered by an lcus or numato relay, with a serial console and a tftp_root")
        }
        var lines = simulation.boards.map { "sim: \($0.name): console \($0.consoleLink)\n" }.joined()
        lines += "sim: ready (\(simulation.boards.count) boards); stop with Ctrl-C\n"
        FileHandle.standardOutput.write(Data(lines.utf8))
        await Self.waitForStopSignal()
        await simulation.stop()
        FileHandle.standardOutput.write(Data("sim: stopped\n".utf8))
    }

    /// Runs `count` scripted boards and writes their lab file, until SIGINT or SIGTERM.
    private func runScriptedBoards(count: Int, runDirectory: String) async throws {
        let failures = try Self.failures(from: failures, boardCount: count)
        let typesFolder = boardTypes ?? FileManager.default.currentDirectoryPath + "/boards"
        let typeFile = (typesFolder as NSString).appendingPathComponent("\(ScriptedLab.boardTypeName).yaml")
        guard FileManager.default.fileExists(atPath: typeFile) else {
            throw CLIError.usage(
                "no board type \(ScriptedLab.boardTypeName) in \(typesFolder)",
                detail: "run bootfarm sim from the repository root, or give the boards folder with --board-types DIR")
        }
        let simulation: ScriptedLab
        do {
            simulation = try ScriptedLab(
                boardCount: count, failures: failures, runDirectory: runDirectory, boardTypesDirectory: typesFolder,
                labFile: labOut ?? (runDirectory as NSString).appendingPathComponent("\(ScriptedLab.labName).yaml"))
        } catch {
            throw CLIError.infrastructure("cannot simulate \(count) scripted boards: \(error)")
        }
        do {
            _ = try LabConfig.load(simulation.labFile)
        } catch {
            simulation.stop()
            throw CLIError.usage("the scripted boards' lab file does not load: \(error)", detail: "check the board type file \(typeFile)")
        }
        var lines = "sim: lab file \(simulation.labFile)\n"
        for (name, failure) in failures.sorted(by: { $0.key < $1.key }) where failure != .none {
            lines += "sim: \(name): fails with \(failure)\n"
        }
        lines += "sim: ready (\(count) boards); stop with Ctrl-C\n"
        FileHandle.standardOutput.write(Data(lines.utf8))
        await Self.waitForStopSignal()
        simulation.stop()
        FileHandle.standardOutput.write(Data("sim: stopped\n".utf8))
    }

    /// Returns at the first SIGINT or SIGTERM (a second one exits at once).
    private static func waitForStopSignal() async {
        let stop = AsyncStream<Void> { continuation in
            let trap = SignalTrap { continuation.yield() }
            continuation.onTermination = { _ in trap.disarm() }
        }
        for await _ in stop { break }
    }
}
