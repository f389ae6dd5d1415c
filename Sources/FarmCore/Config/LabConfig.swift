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
    /// How the lab agent retries and health-checks.
    public var agent = AgentSettings()
    /// The results server the lab uploads its boots to, if any (the `server:` section).
    public var server: UploadSettings?

    public init(name: String, file: String, boardTypesDirectory: String, boards: [BoardConfig]) {
        self.name = name
        self.file = file
        self.boardTypesDirectory = boardTypesDirectory
        self.boards = boards
    }

    /// The board called `name`.
    public func board(named name: String) -> BoardConfig? { boards.first { $0.name == name } }

    /// Checks that the devices the lab names exist now (meter directories, and the character
    /// device of a buffered meter). Loading does not, so a simulator can read the lab before it
    /// creates them.
    public func checkDevices() throws(ConfigError) {
        for board in boards {
            guard let meter = board.meter, let path = meter.path else { continue }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else {
                var error = meter.place
                error.message = "meter path \(path) does not exist (a \(meter.kind.rawValue) device directory is expected)"
                throw error
            }
            guard meter.buffered else { continue }
            let device = meter.bufferDevice ?? "/dev/" + (path as NSString).lastPathComponent
            guard FileManager.default.fileExists(atPath: device) else {
                var error = meter.place
                error.message =
                    "buffer device \(device) of the meter at \(path) does not exist (is the IIO driver loaded? give buffer_device: when it lives elsewhere)"
                throw error
            }
        }
    }
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
    /// The power meter sampled during its boots, if any.
    public var meter: MeterResource?

    public init(
        name: String, type: BoardType, power: PowerResource, console: ConsoleResource, tftpRoot: String?, meter: MeterResource? = nil
    ) {
        self.name = name
        self.type = type
        self.power = power
        self.console = console
        self.tftpRoot = tftpRoot
        self.meter = meter
    }
}

/// How a lab file names a USB HID relay board.
public enum HIDRelayBoard: Sendable, Equatable, CustomStringConvertible {
    /// The serial its feature report carries (5 characters, such as `QAAMZ`).
    case serial(String)
    /// The udev properties of the board or of its hidraw node (its hub port, for boards that
    /// share a serial), as `bootfarm lab discover` prints them.
    case match(DeviceMatch)

    public var description: String {
        switch self {
        case .serial(let serial): "serial \(serial)"
        case .match(let match): "match \(match)"
        }
    }
}

/// What switches a board's power.
public enum PowerResource: Sendable, Equatable {
    /// The board is a QEMU process: on starts it, off stops it.
    case qemu(QEMUPowerResource)
    /// An LCUS/CH340 serial relay board (9600 8N1, binary frames), channel 1-8.
    case lcus(device: DeviceReference, channel: Int, inverted: Bool)
    /// A Numato USB relay module (text commands), channel 0-31.
    case numato(device: DeviceReference, channel: Int, baud: Int, inverted: Bool)
    /// A dcttech-style USB HID relay board chosen by its serial or by udev properties, channel 1-8.
    case hidRelay(board: HIDRelayBoard, channel: Int)
    /// An outlet of a PDU driven through pdudaemon's HTTP API.
    case pdudaemon(server: String, port: Int, pdu: String, outlet: Int)
    /// Shell commands, as LAVA device dictionaries give them.
    case command(on: String, off: String, cycle: String?, timeoutSeconds: Double)

    /// The kind's name as written in lab files.
    public var kind: String {
        switch self {
        case .qemu: "qemu"
        case .lcus: "lcus"
        case .numato: "numato"
        case .hidRelay: "usb-hid-relay"
        case .pdudaemon: "pdudaemon"
        case .command: "command"
        }
    }

    /// Every kind lab files may name.
    public static let kinds = ["qemu", "lcus", "numato", "usb-hid-relay", "pdudaemon", "command"]
}

/// A power meter sampled during every boot of a board.
public struct MeterResource: Sendable, Equatable {
    /// How the meter is read.
    public enum Kind: String, Sendable, CaseIterable {
        /// A hwmon directory of an INA2xx (`power1_input` in µW).
        case hwmon
        /// An IIO device directory (`in_power0_raw` × `in_power_scale`).
        case iio
    }

    public var kind: Kind
    /// The sysfs directory, or the udev properties that find it.
    public var device: DeviceReference
    /// Samples per second.
    public var rateHz: Double
    /// How often voltage and current are read besides power, per second (0: never). Default 100.
    public var voltageAndCurrentRateHz: Double = 100
    /// An IIO meter read through its buffer: the kernel samples and stamps, the agent reads
    /// blocks of scans (`buffer: true`).
    public var buffered = false
    /// The buffer's character device, when not `/dev/` and the IIO directory's name.
    public var bufferDevice: String?
    /// Where the lab file names it (file, line), for errors found after loading.
    public var place: ConfigError

    public init(kind: Kind, device: DeviceReference, rateHz: Double, place: ConfigError = ConfigError(file: "", message: "")) {
        self.kind = kind
        self.device = device
        self.rateHz = rateHz
        self.place = place
    }

    /// The directory, when the lab gives it as a path.
    public var path: String? { device.path }
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
    case serial(device: DeviceReference, baud: Int)
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
