import Testing

@testable import FarmCore

@Suite("U-Boot command scripts and how their answers are judged")
struct UBootCommandTests {
    static func boardType(_ name: String) throws -> BoardType {
        let file = "boards/\(name).yaml"
        return try BoardType.decode(try ConfigNode.parse(try TestFiles.text(file), file: file))
    }

    static func script(_ typeName: String, files: BootFiles, bootArguments: String = "console=ttyAMA0,115200") throws -> [UBootCommand] {
        let type = try boardType(typeName)
        let settings = try #require(type.uBoot)
        return UBootCommand.script(for: type, settings: settings, files: files, bootArguments: bootArguments)
    }

    // MARK: Scripts

    @Test func anArm64ScriptLoadsKernelAndRamdiskAndBootsWithBootiAndUBootsOwnDeviceTree() throws {
        let commands = try Self.script("qemu-arm64-uboot", files: BootFiles(kernel: "Image", ramdisk: "ramdisk", ramdiskSizeBytes: 0xF0E43))
        #expect(
            commands == [
                UBootCommand("setenv autoload no", kind: .setting),
                UBootCommand("dhcp", kind: .dhcp),
                UBootCommand("tftpboot 0x40400000 Image", kind: .load(file: "Image")),
                UBootCommand("tftpboot 0x44000000 ramdisk", kind: .load(file: "ramdisk")),
                UBootCommand("setenv bootargs 'console=ttyAMA0,115200'", kind: .setting),
                UBootCommand("booti 0x40400000 0x44000000:0xf0e43 ${fdtcontroladdr}", kind: .boot),
            ])
    }

    @Test func anArm64ScriptWithADeviceTreeLoadsItAndPassesItsAddress() throws {
        let commands = try Self.script(
            "qemu-arm64-uboot", files: BootFiles(kernel: "Image", ramdisk: "initrd", ramdiskSizeBytes: 4096, dtb: "board.dtb"))
        #expect(commands.map(\.text).contains("tftpboot 0x43f00000 board.dtb"))
        #expect(commands.last == UBootCommand("booti 0x40400000 0x44000000:0x1000 0x43f00000", kind: .boot))
    }

    @Test func anArm64ScriptWithoutRamdiskPassesADash() throws {
        let commands = try Self.script("qemu-arm64-uboot", files: BootFiles(kernel: "Image"))
        #expect(commands.count == 5)
        #expect(commands.last?.text == "booti 0x40400000 - ${fdtcontroladdr}")
    }

    @Test func anX86ScriptBootsWithZbootGivingRamdiskAddressAndSize() throws {
        let commands = try Self.script(
            "qemu-x86-uboot", files: BootFiles(kernel: "bzImage", ramdisk: "ramdisk-x86", ramdiskSizeBytes: 1_028_499),
            bootArguments: "console=ttyS0,115200")
        #expect(
            commands.map(\.text) == [
                "setenv autoload no", "dhcp", "tftpboot 0x1000000 bzImage", "tftpboot 0x10000000 ramdisk-x86",
                "setenv bootargs 'console=ttyS0,115200'", "zboot 0x1000000 0 0x10000000 0xfb193",
            ])
        #expect(commands.last?.kind == .boot)
    }

    @Test func anX86ScriptWithoutRamdiskBootsTheKernelAlone() throws {
        let commands = try Self.script("qemu-x86-uboot", files: BootFiles(kernel: "bzImage"), bootArguments: "console=ttyS0")
        #expect(commands.last?.text == "zboot 0x1000000 0")
    }

    @Test func withoutDHCPTheBoardIsNotAskedForAnAddress() throws {
        var type = try Self.boardType("qemu-arm64-uboot")
        var settings = try #require(type.uBoot)
        settings.dhcp = false
        type.uBoot = settings
        let commands = UBootCommand.script(for: type, settings: settings, files: BootFiles(kernel: "Image"), bootArguments: "")
        #expect(!commands.contains { $0.kind == .dhcp })
        #expect(commands.first?.text == "setenv autoload no")
    }

    @Test func zImageAndUImageBootWithTheirOwnCommands() throws {
        var type = try Self.boardType("qemu-arm64-uboot")
        let settings = try #require(type.uBoot)
        type.kernelImageKind = .zImage
        #expect(
            UBootCommand.script(for: type, settings: settings, files: BootFiles(kernel: "zImage"), bootArguments: "").last?.text
                == "bootz 0x40400000 - ${fdtcontroladdr}")
        type.kernelImageKind = .uImage
        #expect(
            UBootCommand.script(for: type, settings: settings, files: BootFiles(kernel: "uImage"), bootArguments: "").last?.text
                == "bootm 0x40400000 - ${fdtcontroladdr}")
    }

    // MARK: Judging answers

    static let dhcp = UBootCommand("dhcp", kind: .dhcp)
    static let loadImage = UBootCommand("tftpboot 0x40400000 Image", kind: .load(file: "Image"))
    static let booti = UBootCommand("booti 0x40400000 0x44000000:0xf0e43 ${fdtcontroladdr}", kind: .boot)
    static let setArguments = UBootCommand("setenv bootargs 'console=ttyAMA0,115200'", kind: .setting)

    @Test func aBoundDHCPAddressIsOK() {
        let output = "dhcp\r\nBOOTP broadcast 1\r\nDHCP client bound to address 10.0.2.15 (2448 ms)\r\n=> "
        #expect(UBootAnswer.judge(Self.dhcp, output: output) == .ok)
    }

    @Test func dhcpWithoutAnAddressIsAnInfrastructureError() {
        let output = "dhcp\r\nNo ethernet found.\r\n=> "
        #expect(UBootAnswer.judge(Self.dhcp, output: output) == .infrastructureError("dhcp: no address (No ethernet found.)"))
    }

    @Test func aTransferredFileIsOK() {
        let output = """
            tftpboot 0x40400000 Image\r
            Using virtio-net#32 device\r
            TFTP from server 10.0.2.2; our IP address is 10.0.2.15\r
            Filename 'Image'.\r
            Load address: 0x40400000\r
            Loading: *\u{8}##################################################  7.9 MiB\r
            \t 2.9 MiB/s\r
            done\r
            Bytes transferred = 8247232 (7dd7c0 hex)\r
            =>\u{20}
            """
        #expect(UBootAnswer.judge(Self.loadImage, output: output) == .ok)
    }

    @Test func aMissingTFTPFileIsAnInfrastructureErrorQuotingUBootsLine() {
        let command = UBootCommand("tftpboot 0x40400000 no-such-file", kind: .load(file: "no-such-file"))
        let output = "tftpboot 0x40400000 no-such-file\r\nLoading: *\u{8}\r\nTFTP error: 'File not found' (1)\r\nNot retrying...\r\n=> "
        #expect(
            UBootAnswer.judge(command, output: output) == .infrastructureError("tftpboot no-such-file: TFTP error: 'File not found' (1)"))
    }

    @Test func aLoadThatReportsNoTransferIsAnInfrastructureError() {
        let output = "tftpboot 0x40400000 Image\r\nLoading: T T T \r\nAbort\r\n=> "
        #expect(UBootAnswer.judge(Self.loadImage, output: output) == .infrastructureError("tftpboot Image: no transfer reported (=>)"))
    }

    @Test func aKernelImageWithBadMagicFailsTheBootWithUBootsLine() {
        let output = "booti 0x40400000 0x44000000:0xf0e43 ${fdtcontroladdr}\r\nBad Linux ARM64 Image magic!\r\n=> "
        #expect(UBootAnswer.judge(Self.booti, output: output) == .bootFailed("Bad Linux ARM64 Image magic!"))
    }

    @Test func linesSeparatedByLoneNewlinesOrCarriageReturnsAreJudgedAlike() {
        for separator in ["\n", "\r", "\r\n"] {
            let output = ["booti 0x40400000 0x44000000:0xf0e43 ${fdtcontroladdr}", "Wrong Ramdisk Image Format", "=> "]
                .joined(separator: separator)
            #expect(
                UBootAnswer.judge(Self.booti, output: output) == .bootFailed("Wrong Ramdisk Image Format"), "\(separator.debugDescription)")
        }
    }

    @Test func anUnknownBootCommandIsAnInfrastructureError() {
        let command = UBootCommand("booti 0x40400000 - ${fdtcontroladdr}", kind: .boot)
        let output = "booti 0x40400000 - ${fdtcontroladdr}\r\nUnknown command 'booti' - try 'help'\r\n=> "
        #expect(
            UBootAnswer.judge(command, output: output)
                == .infrastructureError("booti 0x40400000 - ${fdtcontroladdr}: Unknown command 'booti' - try 'help'"))
    }

    @Test func aBootCommandThatReturnsWithoutAKnownMessageFails() {
        let output = "booti 0x40400000 0x44000000:0xf0e43 ${fdtcontroladdr}\r\nsomething odd\r\n=> "
        #expect(UBootAnswer.judge(Self.booti, output: output) == .bootFailed("booti returned to the U-Boot prompt: =>"))
    }

    @Test func theEchoedCommandLineIsNotTakenForAnAnswer() {
        // The echo contains "Error: " but is the command itself, not U-Boot's answer.
        let command = UBootCommand("setenv message 'Error: none'", kind: .setting)
        #expect(UBootAnswer.judge(command, output: "setenv message 'Error: none'\r\n=> ") == .ok)
        #expect(UBootAnswer.judge(command, output: "=> setenv message 'Error: none'\r\n=> ") == .ok)
    }

    @Test func aSettingIsOKUnlessUBootComplains() {
        #expect(UBootAnswer.judge(Self.setArguments, output: "setenv bootargs 'console=ttyAMA0,115200'\r\n=> ") == .ok)
        #expect(
            UBootAnswer.judge(
                Self.setArguments,
                output: "setenv bootargs 'console=ttyAMA0,115200'\r\n## Error inserting \"bootargs\" variable, errno=1\r\n=> ")
                == .infrastructureError("setenv bootargs 'console=ttyAMA0,115200': ## Error inserting \"bootargs\" variable, errno=1"))
    }
}
