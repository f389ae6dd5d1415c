import Foundation
import Testing

@testable import FarmCore

@Suite("Lab files: decoding, validation and error positions")
struct LabConfigTests {
    /// A valid lab of one U-Boot board on a TCP console, to be broken one way per test.
    static let goodLab = """
        name: test-lab
        board_types: boards
        boards:
          b1:
            type: qemu-arm64-uboot
            power:
              kind: qemu
              serial_tcp_port: 5721
            console:
              kind: tcp
              port: 5721
        """

    func decode(_ yaml: String, in lab: TemporaryLab) throws(ConfigError) -> LabConfig {
        let file = lab.folder.appendingPathComponent("lab.yaml").path
        return try LabConfig.decode(try ConfigNode.parse(yaml, file: file), file: file)
    }

    /// Decodes `yaml`, which must fail, and checks the error names `key` at the line holding
    /// `fragment`, and that its description starts with `file:line`.
    func expectError(
        _ yaml: String, in existingLab: TemporaryLab? = nil, at fragment: String, occurrence: Int = 1, key: String,
        saying words: String, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let lab = try existingLab ?? TemporaryLab()
        let file = lab.folder.appendingPathComponent("lab.yaml").path
        let error = try #require(throws: ConfigError.self, sourceLocation: sourceLocation) {
            try decode(yaml, in: lab)
        }
        let place = try #require(position(of: fragment, in: yaml, occurrence: occurrence), sourceLocation: sourceLocation)
        #expect(error.file == file, sourceLocation: sourceLocation)
        #expect(error.line == place.line, "\(error)", sourceLocation: sourceLocation)
        #expect(error.key == key, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(words), "\(error)", sourceLocation: sourceLocation)
        #expect(error.description.hasPrefix("\(file):\(place.line)"), "\(error)", sourceLocation: sourceLocation)
    }

    // MARK: Valid labs

    @Test func theSimLabOfTheRepositoryLoadsWithItsFourBoards() throws {
        let file = TestFiles.repositoryRoot.appendingPathComponent("labs/sim.yaml").path
        let text = try TestFiles.text("labs/sim.yaml")
        let lab = try LabConfig.decode(try ConfigNode.parse(text, file: file), file: file)
        #expect(lab.name == "sim")
        #expect(lab.boards.map(\.name) == ["arm64-uboot-1", "x86-uboot-1", "arm64-direct-1", "arm64-uboot-tcp"])
        #expect(lab.boards.map(\.type.name) == ["qemu-arm64-uboot", "qemu-x86-uboot", "qemu-arm64", "qemu-arm64-uboot"])
        #expect(lab.boardTypesDirectory == TestFiles.repositoryRoot.appendingPathComponent("boards").standardized.path)

        let tcpBoard = try #require(lab.board(named: "arm64-uboot-tcp"))
        #expect(tcpBoard.console == .tcp(host: "127.0.0.1", port: 5721))
        #expect(tcpBoard.power == .qemu(QEMUPowerResource(serialTCPPort: 5721)))
        #expect(lab.board(named: "arm64-uboot-1")?.console == .qemuPTY)
        #expect(lab.board(named: "arm64-direct-1")?.type.bootMethod == .qemuDirect)
        #expect(lab.board(named: "x86-uboot-1")?.type.kernelImageKind == .bzImage)
        #expect(lab.board(named: "no-such-board") == nil)
    }

    @Test func loadReadsTheSimLabFromDiskAndFindsBoardTypesBesideIt() throws {
        let lab = try LabConfig.load(TestFiles.repositoryRoot.appendingPathComponent("labs/sim.yaml").path)
        #expect(lab.boards.count == 4)
        #expect(lab.board(named: "arm64-uboot-1")?.type.uBoot?.kernelAddress == 0x4040_0000)
    }

    @Test func boardTypesDefaultToTheBoardsFolderBesideTheLabsFolder() throws {
        let lab = try TemporaryLab()
        let labs = lab.folder.appendingPathComponent("labs")
        try FileManager.default.createDirectory(at: labs, withIntermediateDirectories: true)
        let file = labs.appendingPathComponent("one.yaml").path
        try """
        name: one
        boards:
          direct:
            type: qemu-arm64
            power: {kind: qemu}
            console: {kind: qemu-pty}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let config = try LabConfig.load(file)
        #expect(config.boardTypesDirectory == lab.boardsFolder.standardized.path)
        #expect(config.boards.first?.type.name == "qemu-arm64")
    }

    @Test func aGoodTCPLabDecodesItsResources() throws {
        let lab = try TemporaryLab()
        let config = try decode(Self.goodLab, in: lab)
        let board = try #require(config.boards.first)
        #expect(config.name == "test-lab")
        #expect(board.name == "b1")
        #expect(board.console == .tcp(host: "127.0.0.1", port: 5721))
        #expect(board.console.location == "127.0.0.1:5721")
        #expect(board.power == .qemu(QEMUPowerResource(serialTCPPort: 5721)))
        #expect(board.tftpRoot == nil)
    }

    @Test func relativeTFTPRootsAreResolvedAgainstTheLabFolderAndBoardsInheritTheLabDefault() throws {
        let lab = try TemporaryLab()
        let config = try decode(
            """
            name: t
            board_types: boards
            tftp_root: tftp
            boards:
              b1:
                type: qemu-arm64
                power: {kind: qemu}
                console: {kind: qemu-pty}
              b2:
                type: qemu-arm64
                power: {kind: qemu}
                console: {kind: qemu-pty}
                tftp_root: /srv/tftp
            """, in: lab)
        #expect(config.boards[0].tftpRoot == lab.folder.appendingPathComponent("tftp").standardized.path)
        #expect(config.boards[1].tftpRoot == "/srv/tftp")
    }

    @Test func aSerialConsoleDefaultsTo115200BaudAndAcceptsSupportedRates() throws {
        let lab = try TemporaryLab()
        let config = try decode(
            """
            name: t
            board_types: boards
            boards:
              b1:
                type: qemu-arm64
                power: {kind: qemu}
                console: {kind: serial, device: /dev/serial/by-path/usb-1}
              b2:
                type: qemu-arm64
                power: {kind: qemu}
                console: {kind: serial, device: /dev/ttyS1, baud: 1500000}
            """, in: lab)
        #expect(config.boards[0].console == .serial(device: .path("/dev/serial/by-path/usb-1"), baud: 115200))
        #expect(config.boards[1].console == .serial(device: .path("/dev/ttyS1"), baud: 1_500_000))
    }

    // MARK: Errors with file, line and key

    @Test func aValueOfTheWrongTypeNamesItsLineAndKeyPath() throws {
        try expectError(
            Self.goodLab.replacingOccurrences(of: "      port: 5721", with: "      port: abc"),
            at: "port: abc", key: "boards.b1.console.port", saying: "expected an integer, found 'abc'")
    }

    @Test func theErrorColumnPointsAtTheValue() throws {
        let yaml = Self.goodLab.replacingOccurrences(of: "      port: 5721", with: "      port: abc")
        let lab = try TemporaryLab()
        let error = try #require(throws: ConfigError.self) { try decode(yaml, in: lab) }
        let place = try #require(position(of: "abc", in: yaml))
        #expect(error.column == place.column)
        #expect(error.description.hasPrefix("\(error.file):\(place.line):\(place.column): boards.b1.console.port: "))
    }

    @Test func anUnknownKeyIsReportedAtItsLineWithTheAllowedKeys() throws {
        let yaml = Self.goodLab + "\n    colour: red"
        try expectError(yaml, at: "colour: red", key: "boards.b1.colour", saying: "unknown key 'colour'")
        let lab = try TemporaryLab()
        let error = try #require(throws: ConfigError.self) { try decode(yaml, in: lab) }
        #expect(error.message.contains("expected one of: console, meter, power, power_sequence, tftp_root, type"))
    }

    @Test func anUnknownTopLevelKeyIsReportedWithItsOwnName() throws {
        try expectError(Self.goodLab + "\nlocation: basement", at: "location:", key: "location", saying: "unknown key 'location'")
    }

    @Test func aMissingBoardTypeNamesTheTypeKeyAndTheKnownTypes() throws {
        let yaml = Self.goodLab.replacingOccurrences(of: "type: qemu-arm64-uboot", with: "type: qemu-riscv")
        try expectError(yaml, at: "type: qemu-riscv", key: "boards.b1.type", saying: "unknown board type 'qemu-riscv'")
        let lab = try TemporaryLab()
        let error = try #require(throws: ConfigError.self) { try decode(yaml, in: lab) }
        #expect(error.message.contains("known types: fake-arm64-uboot, qemu-arm64, qemu-arm64-uboot, qemu-x86-uboot"))
    }

    @Test func anUnknownPowerKindNamesThePowerKindKey() throws {
        let yaml = Self.goodLab.replacingOccurrences(of: "kind: qemu\n", with: "kind: usb-relay\n")
        try expectError(yaml, at: "kind: usb-relay", key: "boards.b1.power.kind", saying: "unknown power kind 'usb-relay'")
    }

    @Test func anUnknownConsoleKindNamesTheConsoleKindKey() throws {
        let yaml = Self.goodLab.replacingOccurrences(of: "kind: tcp", with: "kind: telnet")
        try expectError(yaml, at: "kind: telnet", key: "boards.b1.console.kind", saying: "unknown console kind 'telnet'")
    }

    @Test func aDuplicateKeyIsReportedAtItsSecondOccurrence() throws {
        let yaml = Self.goodLab + "\n    console:\n      kind: qemu-pty"
        try expectError(yaml, at: "console:", occurrence: 2, key: "boards.b1.console", saying: "duplicate key")
    }

    @Test func aDuplicateBoardNameIsReportedAtItsSecondOccurrence() throws {
        let yaml = Self.goodLab + "\n  b1:\n    type: qemu-arm64"
        try expectError(yaml, at: "b1:", occurrence: 2, key: "boards.b1", saying: "duplicate key")
    }

    @Test func aYAMLSyntaxErrorGivesTheLineOfTheFault() throws {
        let yaml = Self.goodLab.replacingOccurrences(of: "      kind: tcp", with: "      kind: [tcp")
        let lab = try TemporaryLab()
        let file = lab.folder.appendingPathComponent("lab.yaml").path
        let error = try #require(throws: ConfigError.self) { try decode(yaml, in: lab) }
        #expect(error.message.hasPrefix("YAML syntax"))
        #expect(error.key == "")
        let line = try #require(error.line)
        // The flow list opened on the `kind` line is broken by the next key.
        let opened = try #require(position(of: "kind: [tcp", in: yaml)).line
        #expect((opened...opened + 1).contains(line), "\(error)")
        #expect(error.description.hasPrefix("\(file):\(line):"))
    }

    @Test func aTabInIndentationIsASyntaxErrorOnItsLine() throws {
        let yaml = Self.goodLab.replacingOccurrences(of: "      kind: tcp", with: "\tkind: tcp")
        let lab = try TemporaryLab()
        let error = try #require(throws: ConfigError.self) { try decode(yaml, in: lab) }
        #expect(error.message.hasPrefix("YAML syntax"))
        #expect(error.line == position(of: "\tkind: tcp", in: yaml)?.line, "\(error)")
    }

    @Test func aMissingRequiredKeyNamesTheMappingAndTheKey() throws {
        let yaml = """
            name: t
            board_types: boards
            boards:
              b1:
                type: qemu-arm64
                power: {kind: qemu}
            """
        try expectError(yaml, at: "type: qemu-arm64", key: "boards.b1", saying: "missing required key 'console'")
    }

    @Test func aMissingLabNameIsReportedForTheFile() throws {
        let yaml = """
            board_types: boards
            boards:
              b1:
                type: qemu-arm64
                power: {kind: qemu}
                console: {kind: qemu-pty}
            """
        try expectError(yaml, at: "board_types", key: "", saying: "missing required key 'name'")
    }

    @Test func aMissingTCPPortNamesTheConsole() throws {
        let yaml = Self.goodLab.replacingOccurrences(of: "      port: 5721", with: "      host: localhost")
        try expectError(yaml, at: "kind: tcp", key: "boards.b1.console", saying: "missing required key 'port'")
    }

    @Test func aTCPPortOutOfRangeIsRejected() throws {
        let yaml = Self.goodLab.replacingOccurrences(of: "      port: 5721", with: "      port: 70000")
        try expectError(yaml, at: "port: 70000", key: "boards.b1.console.port", saying: "1 to 65535")
    }

    @Test func anUnsupportedBaudRateIsRejectedWithTheSupportedOnes() throws {
        let yaml = """
            name: t
            board_types: boards
            boards:
              b1:
                type: qemu-arm64
                power: {kind: qemu}
                console:
                  kind: serial
                  device: /dev/ttyUSB0
                  baud: 12345
            """
        try expectError(yaml, at: "baud: 12345", key: "boards.b1.console.baud", saying: "unsupported baud rate 12345")
    }

    @Test func aLabWithoutBoardsIsRejected() throws {
        try expectError("name: t\nboard_types: boards\nboards: {}\n", at: "boards: {}", key: "boards", saying: "at least one board")
    }

    @Test func anEmptyFileIsRejectedAtLineOne() throws {
        let error = try #require(throws: ConfigError.self) { try ConfigNode.parse("", file: "empty.yaml") }
        #expect(error.line == 1)
        #expect(error.description.hasPrefix("empty.yaml:1: "))
    }

    @Test func aListWhereAMappingBelongsIsRejected() throws {
        try expectError(
            "name: t\nboard_types: boards\nboards:\n  - b1\n", at: "- b1", key: "boards", saying: "expected a mapping, found a list")
    }

    @Test func errorsInsideABoardTypeFileNameThatFile() throws {
        let lab = try TemporaryLab()
        let boardYAML = """
            name: broken
            arch: arm64
            boot:
              method: u-boot
              console_device: ttyAMA0
            """
        let boardFile = try lab.writeBoardType("broken", boardYAML)
        let yaml = Self.goodLab.replacingOccurrences(of: "type: qemu-arm64-uboot", with: "type: broken")
        let error = try #require(throws: ConfigError.self) { try decode(yaml, in: lab) }
        #expect(error.file == boardFile)
        #expect(error.key == "boot")
        #expect(error.line == position(of: "method: u-boot", in: boardYAML)?.line)
        #expect(error.message.contains("needs a 'u_boot' section"))
    }

    @Test func aBoardTypeFileThatNamesItselfDifferentlyIsRejected() throws {
        let lab = try TemporaryLab()
        let original = try TestFiles.text("boards/qemu-arm64.yaml")
        let file = try lab.writeBoardType("renamed", original)
        let yaml = Self.goodLab.replacingOccurrences(of: "type: qemu-arm64-uboot", with: "type: renamed")
        let error = try #require(throws: ConfigError.self) { try decode(yaml, in: lab) }
        #expect(error.file == file)
        #expect(error.key == "name")
        #expect(error.message.contains("names itself 'qemu-arm64'"))
    }

    // MARK: Contradictions

    @Test func aQEMUPTYConsoleContradictsASerialTCPPort() throws {
        let yaml = """
            name: t
            board_types: boards
            boards:
              b1:
                type: qemu-arm64-uboot
                power:
                  kind: qemu
                  serial_tcp_port: 5721
                console:
                  kind: qemu-pty
            """
        try expectError(yaml, at: "kind: qemu-pty", key: "boards.b1.console", saying: "contradicts power.serial_tcp_port")
    }

    @Test func aTCPConsoleOnAnotherPortThanQEMUsSerialPortIsRejected() throws {
        let yaml = Self.goodLab.replacingOccurrences(of: "      port: 5721", with: "      port: 5722")
        try expectError(yaml, at: "kind: tcp", key: "boards.b1.console", saying: "console port 5722 is not the QEMU serial port")
        let lab = try TemporaryLab()
        let error = try #require(throws: ConfigError.self) { try decode(yaml, in: lab) }
        #expect(error.message.contains("serial_tcp_port: 5721"))
    }

    @Test func aTCPConsoleOnAQEMUBoardWithoutASerialPortIsRejected() throws {
        let yaml = Self.goodLab.replacingOccurrences(of: "      serial_tcp_port: 5721\n", with: "")
        try expectError(yaml, at: "kind: tcp", key: "boards.b1.console", saying: "not set")
    }

    @Test func theUBootMethodWithoutAUBootSectionIsRejectedInTheBoardType() throws {
        let lab = try TemporaryLab()
        let original = try TestFiles.text("boards/qemu-arm64-uboot.yaml")
        let start = try #require(original.range(of: "  u_boot:\n"))
        let end = try #require(original.range(of: "shell_prompt:"))
        var broken = original
        broken.replaceSubrange(start.lowerBound..<end.lowerBound, with: "")
        broken = broken.replacingOccurrences(of: "name: qemu-arm64-uboot", with: "name: no-uboot")
        let file = try lab.writeBoardType("no-uboot", broken)
        let yaml = Self.goodLab.replacingOccurrences(of: "type: qemu-arm64-uboot", with: "type: no-uboot")
        let error = try #require(throws: ConfigError.self) { try decode(yaml, in: lab) }
        #expect(error.file == file)
        #expect(error.key == "boot")
        #expect(error.line == position(of: "method: u-boot", in: broken)?.line)
        #expect(error.message.contains("'u-boot' needs a 'u_boot' section"))
    }

    @Test func aQEMUPowerSwitchNeedsABoardTypeWithAQEMUSection() throws {
        let lab = try TemporaryLab()
        try lab.writeBoardType(
            "physical",
            """
            name: physical
            arch: arm64
            boot:
              method: u-boot
              console_device: ttyS0,115200
              u_boot:
                load_addresses: {kernel: 0x80000, ramdisk: 0x2000000, dtb: 0x1f00000}
            """)
        let yaml = Self.goodLab.replacingOccurrences(of: "type: qemu-arm64-uboot", with: "type: physical")
        try expectError(yaml, in: lab, at: "kind: qemu", key: "boards.b1.power", saying: "'physical' has none")
    }

    @Test func errorDescriptionsReadFileLineColumnKeyMessage() {
        #expect(ConfigError(file: "a.yaml", line: 3, column: 5, key: "x.y", message: "bad").description == "a.yaml:3:5: x.y: bad")
        #expect(ConfigError(file: "a.yaml", line: 3, message: "bad").description == "a.yaml:3: bad")
        #expect(ConfigError(file: "a.yaml", message: "bad").description == "a.yaml: bad")
    }
}
