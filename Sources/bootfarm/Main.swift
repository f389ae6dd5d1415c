import ArgumentParser
import Foundation

/// bootfarm: boots kernels on the boards of a lab, records every boot, finds regressions.
struct Bootfarm: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootfarm",
        abstract: "Boot kernels on lab boards, record every boot, and track boot regressions.",
        version: "0.1.0",
        subcommands: [
            BootCommand.self, JobCommand.self, AgentCommand.self, LabCommand.self, ResultsCommand.self, ReportCommand.self, LogCommand.self,
            SimCommand.self, ServeCommand.self, TokenCommand.self,
        ]
    )
}

@main
enum Main {
    static func main() async {
        do {
            var command = try Bootfarm.parseAsRoot()
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as CLIError {
            error.report()
            exit(error.exitCode)
        } catch {
            let code = Bootfarm.exitCode(for: error)
            if code == .validationFailure {
                // Usage errors exit 2, as the command-line contract says (not the parser's 64).
                FileHandle.standardError.write(Data((Bootfarm.fullMessage(for: error) + "\n").utf8))
                exit(2)
            }
            Bootfarm.exit(withError: error)
        }
    }
}

/// An error the CLI reports itself: one line first, detail after, a defined exit code.
struct CLIError: Error {
    var message: String
    var detail: String = ""
    var exitCode: Int32

    static func usage(_ message: String, detail: String = "") -> CLIError { CLIError(message: message, detail: detail, exitCode: 2) }
    static func infrastructure(_ message: String, detail: String = "") -> CLIError {
        CLIError(message: message, detail: detail, exitCode: 3)
    }

    func report() {
        var text = "bootfarm: error: \(message)\n"
        if !detail.isEmpty { text += detail.hasSuffix("\n") ? detail : detail + "\n" }
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Writes to standard error.
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
