import Foundation
import Testing

/// `bootfarm sim --boards N` running in the background until released.
final class ScriptedSimulation {
    let process = Process()
    let labFile: String

    /// Starts the simulation of `boards` scripted boards (with `failures`, such as
    /// `relay-timeout=fake-002`) and waits until it is ready.
    init(boards: Int, failures: [String] = [], in folder: URL) throws {
        labFile = folder.appendingPathComponent("labs/fake.yaml").path
        process.executableURL = Harness.binary
        process.arguments =
            ["sim", "--boards", String(boards), "--lab-out", labFile, "--run-directory", folder.appendingPathComponent("run").path]
            + failures.flatMap { ["--fail", $0] }
        process.currentDirectoryURL = Harness.repositoryRoot
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        var seen = Data()
        let deadline = Date().addingTimeInterval(30)
        while !String(decoding: seen, as: UTF8.self).contains("sim: ready") {
            guard Date() < deadline, process.isRunning else {
                throw CocoaError(
                    .fileReadUnknown, userInfo: ["reason": "bootfarm sim did not get ready: \(String(decoding: seen, as: UTF8.self))"])
            }
            seen.append(output.fileHandleForReading.availableData)
        }
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGINT)
            let deadline = Date().addingTimeInterval(10)
            while process.isRunning && Date() < deadline { usleep(50_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
    }
}
