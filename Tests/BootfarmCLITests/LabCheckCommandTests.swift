import Foundation
import Testing

@Suite("bootfarm lab check and argument validation")
struct LabCheckCommandTests {
    @Test func labCheckListsTheBoardsOfTheSimLabAsTheGoldenFileSays() throws {
        let result = try Harness.run(["lab", "check", "labs/sim.yaml"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let golden = try String(
            contentsOf: Harness.repositoryRoot.appendingPathComponent("Tests/BootfarmCLITests/Golden/lab-check-sim.txt"), encoding: .utf8)
        #expect(result.standardOutput == golden)
    }

    @Test func labCheckPrintsJSON() throws {
        let result = try Harness.run(["lab", "check", "labs/sim.yaml", "--json"])
        #expect(result.exitCode == 0)
        let object = try Harness.jsonObject(result.standardOutput)
        #expect(object["lab"] as? String == "sim")
        let boards = try #require(object["boards"] as? [[String: Any]])
        #expect(boards.count == 4)
        #expect(boards.first?["type"] as? String == "qemu-arm64-uboot")
        #expect(boards.first?["console"] as? String == "qemu-pty")
    }

    struct BadLab: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var place: String
        var key: String
        var words: String
        var testDescription: String { name }
    }

    static let badLabs: [BadLab] = [
        BadLab(
            name: "wrong type",
            yaml: """
                name: t
                boards:
                  b1:
                    type: qemu-arm64-uboot
                    power: {kind: qemu}
                    console:
                      kind: tcp
                      port: twelve
                """, place: "lab.yaml:8:", key: "boards.b1.console.port", words: "expected an integer"),
        BadLab(
            name: "unknown key",
            yaml: """
                name: t
                boards:
                  b1:
                    type: qemu-arm64-uboot
                    power: {kind: qemu}
                    console: {kind: qemu-pty}
                    colour: red
                """, place: "lab.yaml:7:", key: "boards.b1.colour", words: "unknown key 'colour'"),
        BadLab(
            name: "missing board type",
            yaml: """
                name: t
                boards:
                  b1:
                    type: qemu-riscv-nonesuch
                    power: {kind: qemu}
                    console: {kind: qemu-pty}
                """, place: "lab.yaml:4:", key: "boards.b1.type", words: "unknown board type 'qemu-riscv-nonesuch'"),
        BadLab(
            name: "unknown power kind",
            yaml: """
                name: t
                boards:
                  b1:
                    type: qemu-arm64-uboot
                    power:
                      kind: usb-relay
                    console: {kind: qemu-pty}
                """, place: "lab.yaml:6:", key: "boards.b1.power.kind", words: "unknown power kind 'usb-relay'"),
        BadLab(
            name: "syntax error",
            yaml: """
                name: t
                boards:
                  b1: [unclosed
                """, place: "lab.yaml:", key: "", words: "YAML syntax"),
    ]

    @Test(arguments: badLabs)
    func aBadLabFileExits2NamingFileLineAndKey(_ lab: BadLab) throws {
        let file = try Harness.labFile(lab.yaml)
        let result = try Harness.run(["lab", "check", file.path])
        #expect(result.exitCode == 2)
        let firstLine = result.standardError.split(separator: "\n").first.map(String.init) ?? ""
        #expect(firstLine.contains(lab.place), "\(firstLine)")
        if !lab.key.isEmpty { #expect(firstLine.contains(": \(lab.key): "), "\(firstLine)") }
        #expect(firstLine.contains(lab.words), "\(firstLine)")
        #expect(result.standardOutput.isEmpty)
    }

    @Test func contradictoryQuietAndVerboseFlagsExit2() throws {
        let result = try Harness.run([
            "boot", "--lab", "labs/sim.yaml", "--board", "arm64-direct-1", "--kernel", "/bin/sh", "--quiet", "--verbose",
        ])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("--quiet and --verbose contradict"))
    }

    @Test func contradictoryLogAndJSONFlagsOfResultsShowExit2() throws {
        let result = try Harness.run(["results", "show", "abc", "--log", "--json"])
        #expect(result.exitCode == 2)
    }

    @Test func aMalformedTimeoutExits2() throws {
        let result = try Harness.run([
            "boot", "--lab", "labs/sim.yaml", "--board", "arm64-direct-1", "--kernel", "/bin/sh", "--timeout", "userspace=-3",
        ])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("positive number"))
    }

    @Test func aKernelThatDoesNotExistExits2BeforeAnythingIsPowered() throws {
        let folder = try Harness.temporaryFolder()
        let database = folder.appendingPathComponent("results.sqlite").path
        let result = try Harness.run([
            "boot", "--lab", "labs/sim.yaml", "--board", "arm64-uboot-1", "--kernel", "/nonexistent/Image", "--db", database,
        ])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("--kernel /nonexistent/Image: no such file"))
        #expect(!result.standardError.contains("power on"))
        #expect(!FileManager.default.fileExists(atPath: database), "nothing is recorded for a usage error")
    }

    @Test func anUnknownBoardExits2AndListsTheBoards() throws {
        let result = try Harness.run(["boot", "--lab", "labs/sim.yaml", "--board", "nonesuch", "--kernel", "/bin/sh"])
        #expect(result.exitCode == 2)
        #expect(result.standardError.contains("no board 'nonesuch'"))
        #expect(result.standardError.contains("arm64-uboot-1"))
    }
}
