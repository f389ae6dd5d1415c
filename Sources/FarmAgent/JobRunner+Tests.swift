import FarmCore
import FarmDrivers
import Foundation

extension JobRunner {
    /// Runs the job's shell tests at the prompt, one after another. A test that does not finish
    /// in time fails, is interrupted (Ctrl-C) and the next one runs.
    func runTests(on console: any Console, clock: BootClock, progress: (BootProgress) -> Void) async throws -> [TestCase] {
        var results: [TestCase] = []
        for (index, definition) in job.tests.enumerated() {
            try Task.checkCancellation()
            guard let command = ShellTestCommand(definition: definition, token: ShellTestCommand.makeToken(sequenceNumber: index)) else {
                results.append(TestCase(name: definition.name, result: .fail, output: "cannot build the command line"))
                continue
            }
            progress(.command("test \(definition.name): \(definition.command)", atSeconds: clock.seconds))
            do {
                try await console.send(command.line, characterDelayMilliseconds: board.type.uBoot?.characterDelayMilliseconds ?? 0)
                let answer = try await console.expect([command.endPattern], deadline: clock.seconds + definition.timeoutSeconds)
                switch answer {
                case .matched(_, let output):
                    if let parsed = ShellTestOutput(parsing: output, for: command) {
                        results += parsed.testCases
                        progress(.note("test \(definition.name): exit \(parsed.exitCode)", atSeconds: clock.seconds))
                    } else {
                        results.append(TestCase(name: definition.name, result: .fail, output: "end marker unreadable"))
                    }
                case .timedOut:
                    results.append(
                        TestCase(name: definition.name, result: .fail, output: "timed out after \(Int(definition.timeoutSeconds)) s"))
                    progress(.note("test \(definition.name): timed out", atSeconds: clock.seconds))
                    try await console.send("\u{03}\n", characterDelayMilliseconds: 0)
                }
            } catch let error as ConsoleError {
                results.append(TestCase(name: definition.name, result: .fail, output: "console: \(error)"))
                break
            }
        }
        return results
    }
}
