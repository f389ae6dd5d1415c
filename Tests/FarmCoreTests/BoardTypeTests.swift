import Testing

@testable import FarmCore

@Suite("Board type files")
struct BoardTypeTests {
    func decode(_ yaml: String, file: String = "boards/test.yaml") throws(ConfigError) -> BoardType {
        try BoardType.decode(try ConfigNode.parse(yaml, file: file))
    }

    func decodeRepositoryType(_ name: String) throws -> BoardType {
        let file = "boards/\(name).yaml"
        return try decode(try TestFiles.text(file), file: file)
    }

    /// Decodes `yaml`, which must fail, and checks the error's line, key and words.
    func expectError(
        _ yaml: String, at fragment: String, key: String, saying words: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let error = try #require(throws: ConfigError.self, sourceLocation: sourceLocation) { try decode(yaml) }
        #expect(error.file == "boards/test.yaml", sourceLocation: sourceLocation)
        #expect(error.line == position(of: fragment, in: yaml)?.line, "\(error)", sourceLocation: sourceLocation)
        #expect(error.key == key, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(words), "\(error)", sourceLocation: sourceLocation)
    }

    static let minimalUBoot = """
        name: test
        arch: arm64
        boot:
          method: u-boot
          console_device: ttyAMA0,115200
          u_boot:
            load_addresses:
              kernel: 0x40400000
              ramdisk: 0x44000000
              dtb: 0x43f00000
        """

    @Test func theArm64UBootTypeDecodesItsMachineAddressesAndTimeouts() throws {
        let type = try decodeRepositoryType("qemu-arm64-uboot")
        #expect(type.name == "qemu-arm64-uboot")
        #expect(type.arch == "arm64")
        #expect(type.bootMethod == .uBoot)
        #expect(type.kernelImageKind == .image)
        #expect(type.consoleDevice == "ttyAMA0,115200")
        #expect(type.shellPrompt == "/ # ")
        let qemu = try #require(type.qemu)
        #expect(qemu.binary == "qemu-system-aarch64")
        #expect(qemu.machine == "virt")
        #expect(qemu.cpu == "cortex-a57")
        #expect(qemu.memoryMegabytes == 512)
        #expect(qemu.networkDevice == "virtio-net-pci")
        let uBoot = try #require(type.uBoot)
        #expect(uBoot.prompt == "=> ")
        #expect(uBoot.autobootPattern == "Hit any key to stop autoboot")
        #expect(uBoot.interrupt == " ")
        #expect(uBoot.dhcp)
        #expect(uBoot.kernelAddress == 0x4040_0000)
        #expect(uBoot.ramdiskAddress == 0x4400_0000)
        #expect(uBoot.dtbAddress == 0x43F0_0000)
        #expect(type.timeouts == StageTimeouts(power: 15, bootloader: 60, kernel: 60, userspace: 60))
    }

    @Test func theX86UBootTypeBootsABzImageAndTakesUBootDefaults() throws {
        let type = try decodeRepositoryType("qemu-x86-uboot")
        #expect(type.kernelImageKind == .bzImage)
        #expect(type.kernelImageKind.uBootCommand == "zboot")
        #expect(type.qemu?.cpu == nil)
        let uBoot = try #require(type.uBoot)
        #expect(uBoot == UBootSettings(kernelAddress: 0x100_0000, ramdiskAddress: 0x1000_0000, dtbAddress: 0x0F00_0000))
        #expect(type.timeouts.bootloader == 90)
        #expect(type.timeouts.kernel == 90)
    }

    @Test func theDirectTypeHasNoUBootAndKeepsDefaultTimeoutsForStagesItOmits() throws {
        let type = try decodeRepositoryType("qemu-arm64")
        #expect(type.bootMethod == .qemuDirect)
        #expect(type.uBoot == nil)
        #expect(type.bootArguments == "")
        #expect(type.timeouts.bootloader == StageTimeouts().bootloader)
    }

    @Test func omittedOptionalSettingsTakeTheirDefaults() throws {
        let type = try decode(Self.minimalUBoot)
        #expect(type.kernelImageKind == .image)
        #expect(type.shellPrompt == "/ # ")
        #expect(type.qemu == nil)
        #expect(type.timeouts == StageTimeouts())
        #expect(type.uBoot?.characterDelayMilliseconds == 0)
        #expect(type.uBoot?.prompt == "=> ")
    }

    @Test func stageTimeoutsAfterThePromptFallBackToUserspace() {
        var timeouts = StageTimeouts(power: 1, bootloader: 2, kernel: 3, userspace: 4)
        #expect(timeouts[.prompt] == 4)
        #expect(timeouts[.tests] == 4)
        timeouts[.kernel] = 7.5
        #expect(timeouts.kernel == 7.5)
    }

    @Test func anUnknownKernelImageKindListsTheKnownOnes() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(of: "  method: u-boot", with: "  method: u-boot\n  kernel_image: vmlinux")
        try expectError(
            yaml, at: "kernel_image", key: "boot.kernel_image", saying: "unknown value 'vmlinux'; expected one of: bzImage, Image")
    }

    @Test func anUnknownBootMethodIsRejected() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(of: "method: u-boot", with: "method: grub")
        try expectError(yaml, at: "method: grub", key: "boot.method", saying: "unknown value 'grub'")
    }

    @Test func aTimeoutForAStageAfterUserspaceIsRejected() throws {
        let yaml = Self.minimalUBoot + "\ntimeouts:\n  kernel: 30\n  prompt: 5"
        try expectError(yaml, at: "prompt: 5", key: "timeouts.prompt", saying: "unknown stage 'prompt'")
    }

    @Test func aTimeoutThatIsNotPositiveIsRejected() throws {
        let yaml = Self.minimalUBoot + "\ntimeouts:\n  kernel: -5"
        try expectError(yaml, at: "kernel: -5", key: "timeouts.kernel", saying: "positive number")
    }

    @Test func aTimeoutThatIsNotANumberIsRejected() throws {
        let yaml = Self.minimalUBoot + "\ntimeouts:\n  kernel: soon"
        try expectError(yaml, at: "kernel: soon", key: "timeouts.kernel", saying: "expected a number")
    }

    @Test func aMissingLoadAddressNamesTheAddressMapping() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(of: "      dtb: 0x43f00000", with: "")
        try expectError(yaml, at: "kernel: 0x40400000", key: "boot.u_boot.load_addresses", saying: "missing required key 'dtb'")
    }

    @Test func aLoadAddressThatIsNotAnIntegerIsRejected() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(of: "ramdisk: 0x44000000", with: "ramdisk: 0xZZ")
        try expectError(yaml, at: "ramdisk: 0xZZ", key: "boot.u_boot.load_addresses.ramdisk", saying: "expected an integer")
    }

    @Test func aCharacterDelayOutsideZeroToOneSecondIsRejected() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(
            of: "    load_addresses:", with: "    character_delay_ms: 5000\n    load_addresses:")
        try expectError(yaml, at: "character_delay_ms", key: "boot.u_boot.character_delay_ms", saying: "0 to 1000 ms")
    }

    @Test func aNonBooleanDHCPSettingIsRejected() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(of: "    load_addresses:", with: "    dhcp: maybe\n    load_addresses:")
        try expectError(yaml, at: "dhcp: maybe", key: "boot.u_boot.dhcp", saying: "expected true or false")
    }

    @Test func aDHCPSettingOfNoTurnsDHCPOff() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(of: "    load_addresses:", with: "    dhcp: no\n    load_addresses:")
        #expect(try decode(yaml).uBoot?.dhcp == false)
    }

    @Test func anUnknownKeyInTheUBootSectionIsRejected() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(of: "    load_addresses:", with: "    bootdelay: 3\n    load_addresses:")
        try expectError(yaml, at: "bootdelay", key: "boot.u_boot.bootdelay", saying: "unknown key 'bootdelay'")
    }

    @Test func theUBootMethodWithoutAUBootSectionIsRejectedAtTheBootSection() throws {
        let yaml = """
            name: test
            arch: arm64
            boot:
              method: u-boot
              console_device: ttyAMA0
            """
        try expectError(yaml, at: "method: u-boot", key: "boot", saying: "needs a 'u_boot' section")
    }

    @Test func theDirectMethodWithoutAQEMUSectionIsRejected() throws {
        let yaml = "name: test\narch: arm64\nboot:\n  method: qemu-direct\n  console_device: ttyAMA0\n"
        try expectError(yaml, at: "method: qemu-direct", key: "boot", saying: "needs a 'qemu' section")
    }

    @Test func theDirectMethodContradictsUBootSettings() throws {
        let yaml =
            "name: test\narch: arm64\nqemu: {binary: qemu-system-aarch64, machine: virt}\n"
            + Self.minimalUBoot.components(separatedBy: "\n").dropFirst(2).joined(separator: "\n")
            .replacingOccurrences(of: "method: u-boot", with: "method: qemu-direct")
        try expectError(yaml, at: "method: qemu-direct", key: "boot", saying: "contradict boot method 'qemu-direct'")
    }

    @Test func tooLittleGuestMemoryIsRejected() throws {
        let yaml =
            "name: test\narch: arm64\nqemu:\n  binary: qemu-system-aarch64\n  machine: virt\n  memory_mb: 8\n"
            + "boot:\n  method: qemu-direct\n  console_device: ttyAMA0\n"
        try expectError(yaml, at: "memory_mb: 8", key: "qemu.memory_mb", saying: "at least 16 MiB")
    }

    @Test func extraQEMUArgumentsAcceptAStringOrAList() throws {
        let base = "name: test\narch: arm64\nboot:\n  method: qemu-direct\n  console_device: ttyAMA0\nqemu:\n  binary: q\n  machine: virt\n"
        #expect(try decode(base + "  extra_args: -nographic\n").qemu?.extraArguments == ["-nographic"])
        #expect(try decode(base + "  extra_args: [-smp, '2']\n").qemu?.extraArguments == ["-smp", "2"])
    }

    @Test func aDuplicateKeyInABoardTypeIsReportedAtItsSecondOccurrence() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(of: "      dtb: 0x43f00000", with: "      dtb: 0x43f00000\n      kernel: 0x80000")
        try expectError(yaml, at: "kernel: 0x80000", key: "boot.u_boot.load_addresses.kernel", saying: "duplicate key")
    }

    @Test func aKeyWrittenThreeTimesIsReportedAtItsSecondOccurrence() throws {
        let yaml = Self.minimalUBoot + "\nshell_prompt: '# '\nshell_prompt: '$ '\nshell_prompt: '> '"
        try expectError(yaml, at: "shell_prompt: '$ '", key: "shell_prompt", saying: "duplicate key")
    }

    @Test func aDuplicateKeyInAFlowMappingIsReportedOnItsLine() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(
            of: "    load_addresses:\n      kernel: 0x40400000\n      ramdisk: 0x44000000\n      dtb: 0x43f00000",
            with: "    load_addresses: {kernel: 0x40400000, ramdisk: 0x44000000, kernel: 0x1}")
        try expectError(yaml, at: "load_addresses:", key: "boot.u_boot.load_addresses.kernel", saying: "duplicate key")
    }

    @Test func anEmptyRequiredStringIsRejected() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(of: "arch: arm64", with: "arch: ''")
        try expectError(yaml, at: "arch: ''", key: "arch", saying: "non-empty")
    }

    @Test func aNullValueCountsAsMissing() throws {
        let yaml = Self.minimalUBoot.replacingOccurrences(of: "arch: arm64", with: "arch: ~")
        try expectError(yaml, at: "name: test", key: "", saying: "missing required key 'arch'")
    }
}
