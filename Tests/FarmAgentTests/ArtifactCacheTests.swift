import FarmCore
import Foundation
import Testing

@testable import FarmAgent

/// `python3 -m http.server` serving a folder on an ephemeral loopback port.
final class FileServer {
    let process = Process()
    let folder: URL
    private(set) var port = 0

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", folder.path]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The first line says which port it took: "Serving HTTP on 127.0.0.1 port N (...)".
        var text = ""
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !text.contains("\n") {
            text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }
        let words = text.split(separator: " ")
        if let index = words.firstIndex(of: "port"), index + 1 < words.count { port = Int(words[index + 1]) ?? 0 }
    }

    // Only a signal here: waiting for the exit from a task of the cooperative pool can stall
    // Foundation's run loop; its process monitor reaps the child. SIGKILL, because a child
    // started from a Dispatch thread inherits its blocked signals, SIGTERM among them.
    deinit {
        kill(process.processIdentifier, SIGKILL)
        try? FileManager.default.removeItem(at: folder)
    }

    func url(_ name: String) -> String { "http://127.0.0.1:\(port)/\(name)" }
}

@Suite("fetching the files a job boots", .serialized)
struct ArtifactCacheTests {
    let bytes = Array("an arm64 kernel image, more or less\n".utf8)

    @Test func aURLIsDownloadedOnceCheckedAndReused() async throws {
        let server = try FileServer()
        try #require(server.port > 0)
        try Data(bytes).write(to: server.folder.appendingPathComponent("Image"))
        let cacheFolder = FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-cache-\(UUID().uuidString)").path
        let cache = ArtifactCache(folder: cacheFolder)
        let artifact = JobArtifact(location: server.url("Image"), sha256: SHA256.hex(bytes))
        let path = try await cache.localPath(for: artifact)
        #expect(FileManager.default.contents(atPath: path) == Data(bytes))
        // Gone from the server: the cached copy serves.
        try FileManager.default.removeItem(at: server.folder.appendingPathComponent("Image"))
        #expect(try await cache.localPath(for: artifact) == path)
        withExtendedLifetime(server) {}
    }

    @Test func aWrongChecksumAMissingFileAndAnOversizedFileAreErrors() async throws {
        let server = try FileServer()
        try #require(server.port > 0)
        try Data(bytes).write(to: server.folder.appendingPathComponent("Image"))
        let cacheFolder = FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-cache-\(UUID().uuidString)").path
        let wrong = JobArtifact(location: server.url("Image"), sha256: String(repeating: "0", count: 64))
        await #expect(throws: JobError.self) { try await ArtifactCache(folder: cacheFolder).localPath(for: wrong) }
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: cacheFolder)) ?? []).isEmpty, "a bad download was cached")
        do {
            _ = try await ArtifactCache(folder: cacheFolder).localPath(for: JobArtifact(location: server.url("missing")))
            Issue.record("a missing file was fetched")
        } catch {
            #expect("\(error)".contains("HTTP 404"), "\(error)")
        }
        do {
            _ = try await ArtifactCache(folder: cacheFolder, maximumBytes: 8).localPath(for: JobArtifact(location: server.url("Image")))
            Issue.record("an oversized file was fetched")
        } catch {
            #expect("\(error)".contains("over the limit of 8"), "\(error)")
        }
        withExtendedLifetime(server) {}
    }

    @Test func aLocalFileIsUsedInPlaceAndItsChecksumChecked() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-local-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let cache = ArtifactCache(folder: "/nonexistent")
        #expect(try await cache.localPath(for: JobArtifact(location: "file://" + file.path, sha256: SHA256.hex(bytes))) == file.path)
        await #expect(throws: JobError.self) {
            try await cache.localPath(for: JobArtifact(location: file.path, sha256: String(repeating: "f", count: 64)))
        }
    }
}
