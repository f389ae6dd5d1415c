import Foundation
import Testing

/// Runs the built `bootfarm` binary and captures what it prints.
struct CommandResult {
    var exitCode: Int32
    var standardOutput: String
    var standardError: String
}

enum Harness {
    /// The repository root (two levels above this file's folder).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The test kernels: `$BOOTFARM_KIT_DIR` or `.kit` at the repository root (built by scripts/kit).
    static let kit: URL = {
        if let path = ProcessInfo.processInfo.environment["BOOTFARM_KIT_DIR"], !path.isEmpty { return URL(fileURLWithPath: path) }
        return repositoryRoot.appendingPathComponent(".kit")
    }()

    /// The binary under test: `$BOOTFARM_BIN`, or `bootfarm` beside the test bundle.
    static let binary: URL = {
        if let path = ProcessInfo.processInfo.environment["BOOTFARM_BIN"], !path.isEmpty { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = folder.appendingPathComponent("bootfarm")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return repositoryRoot.appendingPathComponent(".build/debug/bootfarm")
    }()

    static func kitFile(_ relative: String) throws -> String {
        let path = kit.appendingPathComponent(relative).path
        try #require(FileManager.default.fileExists(atPath: path), "kit file \(path) is missing: run scripts/kit")
        return path
    }

    /// Runs bootfarm with `arguments` from the repository root; `onStart` gets the process id.
    static func run(_ arguments: [String], timeoutSeconds: Double = 240, onStart: (@Sendable (Int32) -> Void)? = nil) throws
        -> CommandResult
    {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = repositoryRoot
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        process.standardInput = FileHandle.nullDevice
        try process.run()
        onStart?(process.processIdentifier)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        // Drain both pipes while waiting so a chatty process never blocks on a full pipe.
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outData = output.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        group.enter()
        DispatchQueue.global().async {
            errData = error.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            process.terminate()
            Issue.record("bootfarm \(arguments.joined(separator: " ")) ran over \(Int(timeoutSeconds)) s")
        }
        process.waitUntilExit()
        group.wait()
        return CommandResult(
            exitCode: process.terminationStatus,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self))
    }

    /// A fresh temporary folder.
    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Writes a lab file into a temporary folder beside a copy of the repository's board types.
    static func labFile(_ yaml: String) throws -> URL {
        let folder = try temporaryFolder()
        try FileManager.default.copyItem(at: repositoryRoot.appendingPathComponent("boards"), to: folder.appendingPathComponent("boards"))
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("labs"), withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("labs/lab.yaml")
        try yaml.write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// A local TCP port nobody listens on (now).
    static func closedPort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(socketFD >= 0)
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socketFD, pointer, length) == 0 && getsockname(socketFD, pointer, &length) == 0
            }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Parses a JSON object printed on standard output.
    static func jsonObject(_ text: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(text)")
    }

    /// Processes still alive (not zombies) whose command line contains `text`.
    static func liveProcesses(containing text: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let commandLine = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"),
                String(decoding: commandLine, as: UTF8.self).contains(text),
                let status = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            else { return false }
            let state = status.split(separator: ")").last?.split(separator: " ").first ?? ""
            return state != "Z"
        }
    }
}
