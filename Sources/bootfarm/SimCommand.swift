import ArgumentParser
import FarmCore
import FarmSim
import Foundation

struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulate the hardware of a lab file: relay boards, board consoles and power meters.",
        discussion: """
            Every board powered by an LCUS or Numato relay gets a relay board on a PTY speaking the \
            real protocol (linked at the lab's device path), a QEMU board that runs while its channel \
            is closed, with its UART on a PTY (linked at the console device path), and a hwmon or IIO \
            power sensor at the meter path. Runs until interrupted; boot the boards meanwhile with \
            bootfarm boot --lab FILE.
            """)

    @Option(help: "The lab file whose hardware is simulated.") var lab: String
    @Option(help: "Folder for QEMU sockets and logs (default: a temporary folder).") var runDirectory: String?

    func run() async throws {
        let config = try loadLab(lab, checkDevices: false)
        let folder = runDirectory ?? FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-sim-\(getpid())").path
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
        let stop = AsyncStream<Void> { continuation in
            let trap = SignalTrap { continuation.yield() }
            continuation.onTermination = { _ in trap.disarm() }
        }
        for await _ in stop { break }
        await simulation.stop()
        FileHandle.standardOutput.write(Data("sim: stopped\n".utf8))
    }
}
