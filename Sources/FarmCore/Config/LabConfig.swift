import Foundation

/// One lab: its name and the boards attached to it, each bound to its power switch, console and
/// TFTP root. Loaded from `labs/NAME.yaml` and validated once.
public struct LabConfig: Sendable {
    /// The lab's name, recorded with every boot.
    public var name: String
    /// The file it was loaded from.
    public var file: String
    /// Where board type files were looked up.
    public var boardTypesDirectory: String
    /// The boards, in file order.
    public var boards: [BoardConfig]

    public init(name: String, file: String, boardTypesDirectory: String, boards: [BoardConfig]) {
        self.name = name
        self.file = file
        self.boardTypesDirectory = boardTypesDirectory
        self.boards = boards
    }

    /// The board called `name`.
    public func board(named name: String) -> BoardConfig? { boards.first { $0.name == name } }
}

/// A board of a lab and the resources it is wired to.
public struct BoardConfig: Sendable {
    /// The board's name, unique in its lab.
    public var name: String
    /// Its board type.
    public var type: BoardType
    /// What switches its power.
    public var power: PowerResource
    /// Where its serial console is.
    public var console: ConsoleResource
    /// The TFTP server's root folder, where kernels are put for U-Boot to fetch; nil for a
    /// QEMU board means a fresh folder per boot, served by QEMU itself.
    public var tftpRoot: String?
    /// Path prefix of the TFTP root as the board's TFTP client sees it (default: the root itself).
    public var tftpServerPrefix: String

    public init(
        name: String, type: BoardType, power: PowerResource, console: ConsoleResource, tftpRoot: String?, tftpServerPrefix: String = ""
    ) {
        self.name = name
        self.type = type
        self.power = power
        self.console = console
        self.tftpRoot = tftpRoot
        self.tftpServerPrefix = tftpServerPrefix
    }
}

/// What switches a board's power.
public enum PowerResource: Sendable, Equatable {
    /// The board is a QEMU process: on starts it, off stops it.
    case qemu(QEMUPowerResource)

    /// The kind's name as written in lab files.
    public var kind: String {
        switch self {
        case .qemu: "qemu"
        }
    }
}

/// Lab-side settings of a QEMU board's "power switch".
public struct QEMUPowerResource: Sendable, Equatable {
    /// Overrides the board type's QEMU binary.
    public var binary: String?
    /// Folder QEMU's built-in TFTP server serves; defaults to the board's TFTP root.
    public var tftpRoot: String?
    /// Serve the serial console on this TCP port instead of a PTY.
    public var serialTCPPort: Int?

    public init(binary: String? = nil, tftpRoot: String? = nil, serialTCPPort: Int? = nil) {
        self.binary = binary
        self.tftpRoot = tftpRoot
        self.serialTCPPort = serialTCPPort
    }
}

/// Where a board's serial console is.
public enum ConsoleResource: Sendable, Equatable {
    /// The PTY a QEMU board's serial port is attached to (found when QEMU starts).
    case qemuPTY
    /// A serial tty (USB-serial adapter), opened raw at `baud`.
    case serial(device: String, baud: Int)
    /// A TCP port speaking raw bytes (ser2net, or QEMU's own socket).
    case tcp(host: String, port: Int)

    /// The kind's name as written in lab files.
    public var kind: String {
        switch self {
        case .qemuPTY: "qemu-pty"
        case .serial: "serial"
        case .tcp: "tcp"
        }
    }

    /// Human-readable location, such as `127.0.0.1:5000`.
    public var location: String {
        switch self {
        case .qemuPTY: "QEMU PTY"
        case .serial(let device, let baud): "\(device) @ \(baud)"
        case .tcp(let host, let port): "\(host):\(port)"
        }
    }
}
