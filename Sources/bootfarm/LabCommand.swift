import ArgumentParser
import FarmCore
import Foundation

struct LabCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lab",
        abstract: "Check and inspect labs, and their boards' states.",
        subcommands: [Check.self, Discover.self, Status.self, Board.self, Outbox.self]
    )

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate a lab file and the board types it uses, and list its boards.")

        @Argument(help: "The lab file (YAML).")
        var file: String

        @Flag(help: "Print the boards as JSON.")
        var json = false

        func run() async throws {
            let lab = try loadLab(file)
            if json {
                let boards: [[String: Any]] = lab.boards.map { board in
                    var object: [String: Any] = [
                        "name": board.name, "type": board.type.name, "arch": board.type.arch,
                        "boot_method": board.type.bootMethod.rawValue, "power": board.power.kind,
                        "console": board.console.kind, "console_location": board.console.location,
                    ]
                    object["tftp_root"] = board.tftpRoot
                    return object
                }
                print(
                    JSONOutput.text(
                        ["lab": lab.name, "file": lab.file, "board_types": lab.boardTypesDirectory, "boards": boards], pretty: true))
                return
            }
            print("lab \(lab.name): \(lab.boards.count) board\(lab.boards.count == 1 ? "" : "s") (\(lab.file))")
            let nameWidth = max(5, lab.boards.map(\.name.count).max() ?? 0)
            let typeWidth = max(4, lab.boards.map(\.type.name.count).max() ?? 0)
            for board in lab.boards {
                let name = board.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                let type = board.type.name.padding(toLength: typeWidth, withPad: " ", startingAt: 0)
                print(
                    "  \(name)  \(type)  \(board.type.arch.padding(toLength: 7, withPad: " ", startingAt: 0))  \(board.type.bootMethod.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0))  power \(board.power.kind), console \(board.console.kind) \(board.console.location)"
                )
            }
        }
    }
}

/// Loads a lab, turning configuration errors into exit-2 errors that name file, line and key.
/// With `checkDevices`, the meter directories it names must exist too.
func loadLab(_ file: String, checkDevices: Bool = true) throws -> LabConfig {
    do {
        let lab = try LabConfig.load(file)
        if checkDevices { try lab.checkDevices() }
        return lab
    } catch {
        throw CLIError.usage(error.description, detail: "fix the file, then check it with: bootfarm lab check \(file)")
    }
}
