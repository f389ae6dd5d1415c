import Foundation

/// One command typed at the U-Boot prompt, and what its answer must show.
public struct UBootCommand: Sendable, Equatable {
    /// What the command does, which decides how its answer is judged.
    public enum Kind: Sendable, Equatable {
        /// Sets an environment variable; any answer but an error is fine.
        case setting
        /// `dhcp`: must bind an address.
        case dhcp
        /// `tftpboot`: must transfer the named file.
        case load(file: String)
        /// Starts the kernel; returns to the prompt only on failure.
        case boot
    }

    /// The command line, without the newline.
    public var text: String
    public var kind: Kind

    public init(_ text: String, kind: Kind) {
        self.text = text
        self.kind = kind
    }

    /// The commands that load and boot `files` on a board type, in order.
    public static func script(for type: BoardType, settings: UBootSettings, files: BootFiles, bootArguments: String) -> [UBootCommand] {
        var commands: [UBootCommand] = []
        commands.append(UBootCommand("setenv autoload no", kind: .setting))
        if settings.dhcp { commands.append(UBootCommand("dhcp", kind: .dhcp)) }
        commands.append(UBootCommand("tftpboot \(hex(settings.kernelAddress)) \(files.kernel)", kind: .load(file: files.kernel)))
        if let ramdisk = files.ramdisk {
            commands.append(UBootCommand("tftpboot \(hex(settings.ramdiskAddress)) \(ramdisk)", kind: .load(file: ramdisk)))
        }
        if let dtb = files.dtb {
            commands.append(UBootCommand("tftpboot \(hex(settings.dtbAddress)) \(dtb)", kind: .load(file: dtb)))
        }
        commands.append(UBootCommand("setenv bootargs '\(bootArguments)'", kind: .setting))
        let ramdiskArgument = files.ramdisk.map { _ in "\(hex(settings.ramdiskAddress)):\(hex(files.ramdiskSizeBytes))" } ?? "-"
        let boot: String
        switch type.kernelImageKind {
        case .bzImage:
            let ramdisk = files.ramdisk.map { _ in " \(hex(settings.ramdiskAddress)) \(hex(files.ramdiskSizeBytes))" } ?? ""
            boot = "zboot \(hex(settings.kernelAddress)) 0\(ramdisk)"
        case .image, .zImage, .uImage:
            let fdt = files.dtb.map { _ in hex(settings.dtbAddress) } ?? "${fdtcontroladdr}"
            boot = "\(type.kernelImageKind.uBootCommand) \(hex(settings.kernelAddress)) \(ramdiskArgument) \(fdt)"
        }
        commands.append(UBootCommand(boot, kind: .boot))
        return commands
    }

    static func hex(_ value: Int) -> String { "0x" + String(value, radix: 16) }
}

/// The files of one boot as the board's TFTP client names them.
public struct BootFiles: Sendable, Equatable {
    /// Kernel path relative to the TFTP root.
    public var kernel: String
    /// Ramdisk path relative to the TFTP root.
    public var ramdisk: String?
    /// Ramdisk size in bytes (U-Boot needs it for `booti`/`zboot`).
    public var ramdiskSizeBytes: Int
    /// Device tree path relative to the TFTP root.
    public var dtb: String?

    public init(kernel: String, ramdisk: String? = nil, ramdiskSizeBytes: Int = 0, dtb: String? = nil) {
        self.kernel = kernel
        self.ramdisk = ramdisk
        self.ramdiskSizeBytes = ramdiskSizeBytes
        self.dtb = dtb
    }
}

/// How U-Boot answered a command.
public enum UBootAnswer: Sendable, Equatable {
    /// The command did what it should.
    case ok
    /// The lab failed (network, TFTP, a command the board type got wrong): an infrastructure error.
    case infrastructureError(String)
    /// The kernel image was refused: the boot failed.
    case bootFailed(String)

    private static let infrastructureMarkers = [
        "TFTP error", "File not found", "Retry count exceeded", "No ethernet found", "Could not get PHY",
        "Unknown command", "Bad Data CRC", "Retry time exceeded", "Error: ",
    ]
    private static let imageMarkers = [
        "Bad Linux ARM64 Image magic", "Bad Linux ARM zImage magic", "Wrong Image Format", "Bad Magic Number",
        "bad magic", "Bad Header Checksum", "Image too large", "Wrong Ramdisk Image Format", "Bad Linux RISCV Image magic",
        "ERROR: ", "Must RESET board",
    ]

    /// Judges U-Boot's answer `output` (what it printed between the command and the next prompt).
    public static func judge(_ command: UBootCommand, output: String) -> UBootAnswer {
        let lines = output.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty && $0 != command.text && !$0.hasSuffix(command.text) }
        func firstLine(containing markers: [String]) -> String? {
            lines.first { line in markers.contains { line.contains($0) } }
        }
        switch command.kind {
        case .boot:
            if let line = firstLine(containing: imageMarkers) { return .bootFailed(line) }
            if let line = firstLine(containing: infrastructureMarkers) { return .infrastructureError("\(command.text): \(line)") }
            return .bootFailed(
                "\(command.text.split(separator: " ").first ?? "boot") returned to the U-Boot prompt: \(lines.last ?? "no message")")
        case .load(let file):
            if let line = firstLine(containing: infrastructureMarkers) { return .infrastructureError("tftpboot \(file): \(line)") }
            if lines.contains(where: { $0.contains("Bytes transferred") }) { return .ok }
            return .infrastructureError("tftpboot \(file): no transfer reported (\(lines.last ?? "no answer"))")
        case .dhcp:
            if lines.contains(where: { $0.contains("DHCP client bound") }) { return .ok }
            return .infrastructureError("dhcp: no address (\(firstLine(containing: infrastructureMarkers) ?? lines.last ?? "no answer"))")
        case .setting:
            if let line = firstLine(containing: infrastructureMarkers + ["## Error"]) {
                return .infrastructureError("\(command.text): \(line)")
            }
            return .ok
        }
    }
}
