import Foundation
import Testing

@testable import FarmCore

@Suite("Lab files: the server: section a lab uploads its boots with")
struct LabServerSectionTests {
    static let base = """
        name: sharing-lab
        board_types: boards
        boards:
          a1:
            type: qemu-arm64
            power: {kind: qemu}
            console: {kind: qemu-pty}

        """

    @Test func aLabWithoutTheSectionUploadsNowhere() throws {
        let folder = try TemporaryLab()
        #expect(try folder.decodeLab(Self.base).server == nil)
    }

    @Test func theSectionDecodesWithItsDefaultsAndAnInlineToken() throws {
        let folder = try TemporaryLab()
        let lab = try folder.decodeLab(Self.base + "server: {url: 'https://results.example.org/', token: bf_secret}\n")
        let server = try #require(lab.server)
        #expect(server.url == "https://results.example.org")
        #expect(server.token == .text("bf_secret"))
        #expect(server.batchSize == 100 && server.maximumBackoffSeconds == 300)
        #expect(try server.resolvedToken() == "bf_secret")
    }

    @Test func aTokenFileIsRelativeToTheLabFileAndReadWhenNeeded() throws {
        let folder = try TemporaryLab()
        let yaml = Self.base + "server:\n  url: http://127.0.0.1:8080\n  token_file: secrets/lab.token\n  batch: 10\n  max_backoff_s: 1\n"
        let lab = try folder.decodeLab(yaml)
        let server = try #require(lab.server)
        let tokenPath = folder.folder.appendingPathComponent("secrets/lab.token").path
        #expect(server.token == .file(tokenPath))
        #expect(server.batchSize == 10 && server.maximumBackoffSeconds == 1)

        let missing = try #require(throws: ConfigError.self) { try server.resolvedToken() }
        #expect(missing.key == "server.token_file" && missing.message.contains("cannot read the token file \(tokenPath)"), "\(missing)")
        #expect(missing.line == position(of: "token_file", in: yaml)?.line)

        try FileManager.default.createDirectory(
            at: folder.folder.appendingPathComponent("secrets"), withIntermediateDirectories: true)
        try "bf_from_file\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        #expect(try server.resolvedToken() == "bf_from_file")
        try "\n".write(toFile: tokenPath, atomically: true, encoding: .utf8)
        #expect(throws: ConfigError.self) { try server.resolvedToken() }
    }

    @Test(arguments: [
        ("server: {url: https://r.example.org, token: t, token_file: t.txt}", "server.token_file", "not both"),
        ("server: {url: https://r.example.org}", "server", "missing the lab's token"),
        ("server: {url: ftp://r.example.org, token: t}", "server.url", "http:// or https://"),
        ("server: {url: results.example.org, token: t}", "server.url", "http:// or https://"),
        ("server: {url: 'https://r.example.org/?x=1', token: t}", "server.url", "http:// or https://"),
        ("server: {token: t}", "server", "missing required key 'url'"),
        ("server: {url: https://r.example.org, token: t, batchsize: 10}", "server.batchsize", "unknown key"),
        ("server: {url: https://r.example.org, token: t, batch: 0}", "server.batch", "1 to 1000"),
        ("server: {url: https://r.example.org, token: t, max_backoff_s: 0.5}", "server.max_backoff_s", "1 to 86400"),
        ("server: https://r.example.org", "server", "expected a mapping"),
    ])
    func badServerSectionsNameTheirKeyAndLine(section: String, key: String, words: String) throws {
        let folder = try TemporaryLab()
        let yaml = Self.base + section + "\n"
        let error = try #require(throws: ConfigError.self) { try folder.decodeLab(yaml) }
        #expect(error.key == key, "\(error)")
        #expect(error.message.contains(words), "\(error)")
        #expect(error.line == position(of: "server", in: yaml)?.line, "\(error)")
        #expect(error.file.hasSuffix("lab.yaml"))
    }

    @Test(arguments: [
        ("https://results.example.org", "https://results.example.org"),
        ("HTTP://127.0.0.1:8080/", "HTTP://127.0.0.1:8080"),
        ("http://host/base//", "http://host/base"),
    ])
    func serverURLsAreNormalised(text: String, expected: String) {
        #expect(UploadSettings.serverURL(text) == expected)
    }

    @Test(arguments: ["", "http://", "ftp://host", "host:8080", "https://host/#top", "mailto:a@b"])
    func thingsThatAreNotServerURLsAreRefused(text: String) {
        #expect(UploadSettings.serverURL(text) == nil)
    }
}
