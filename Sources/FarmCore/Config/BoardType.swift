/// A kind of board: how it is emulated or wired, how it boots, and how long each stage may take.
/// Defined once in `boards/NAME.yaml` and shared by every board of the type.
public struct BoardType: Sendable, Equatable {
    /// The type's name, equal to its file name without `.yaml`.
    public var name: String
    /// Kernel architecture: `arm64`, `x86_64`, `arm`.
    public var arch: String
    /// How QEMU emulates this board; nil for physical boards.
    public var qemu: QEMUMachine?
    /// How a kernel is started on it.
    public var bootMethod: BootMethodKind
    /// U-Boot specifics, for `u-boot` boards.
    public var uBoot: UBootSettings?
    /// How the kernel image is packed, which decides the U-Boot boot command.
    public var kernelImageKind: KernelImageKind
    /// The console device for `bootargs`, such as `ttyAMA0,115200`.
    public var consoleDevice: String
    /// Extra kernel command-line arguments every boot of this type gets.
    public var bootArguments: String
    /// Default shell prompt pattern (a regular expression); a job may override it.
    public var shellPrompt: String
    /// Per-stage timeouts in seconds.
    public var timeouts: StageTimeouts
    /// The known-good boot that tells whether a board of this type is healthy, if defined.
    public var healthCheck: HealthCheck?
    /// How power is switched: time off before on, time to settle after on.
    public var powerSequence = PowerSequence()

    public init(
        name: String, arch: String, qemu: QEMUMachine?, bootMethod: BootMethodKind, uBoot: UBootSettings?,
        kernelImageKind: KernelImageKind, consoleDevice: String, bootArguments: String, shellPrompt: String,
        timeouts: StageTimeouts
    ) {
        self.name = name
        self.arch = arch
        self.qemu = qemu
        self.bootMethod = bootMethod
        self.uBoot = uBoot
        self.kernelImageKind = kernelImageKind
        self.consoleDevice = consoleDevice
        self.bootArguments = bootArguments
        self.shellPrompt = shellPrompt
        self.timeouts = timeouts
    }
}

/// How a kernel gets started on a board.
public enum BootMethodKind: String, Sendable, CaseIterable {
    /// Interrupt U-Boot on the console and load kernel and ramdisk over TFTP.
    case uBoot = "u-boot"
    /// Hand kernel and ramdisk to QEMU (`-kernel`, `-initrd`, `-append`).
    case qemuDirect = "qemu-direct"
}

/// Kernel image formats and the U-Boot command that boots each.
public enum KernelImageKind: String, Sendable, CaseIterable {
    /// x86 bzImage, booted with `zboot`.
    case bzImage
    /// arm64 `Image` (uncompressed), booted with `booti`.
    case image = "Image"
    /// 32-bit ARM zImage, booted with `bootz`.
    case zImage
    /// Legacy U-Boot image, booted with `bootm`.
    case uImage

    /// The U-Boot command that boots this kind.
    public var uBootCommand: String {
        switch self {
        case .bzImage: "zboot"
        case .image: "booti"
        case .zImage: "bootz"
        case .uImage: "bootm"
        }
    }
}

/// The QEMU machine that emulates a board type.
public struct QEMUMachine: Sendable, Equatable {
    /// The QEMU system emulator, such as `qemu-system-aarch64`.
    public var binary: String
    /// `-M` value.
    public var machine: String
    /// `-cpu` value, if any.
    public var cpu: String?
    /// Guest memory in MiB.
    public var memoryMegabytes: Int
    /// `-bios` firmware (U-Boot), if any.
    public var firmware: String?
    /// The network card model U-Boot drives for TFTP, if the board boots over the network.
    public var networkDevice: String?
    /// Further arguments passed as they are.
    public var extraArguments: [String]

    public init(
        binary: String, machine: String, cpu: String? = nil, memoryMegabytes: Int = 512, firmware: String? = nil,
        networkDevice: String? = nil, extraArguments: [String] = []
    ) {
        self.binary = binary
        self.machine = machine
        self.cpu = cpu
        self.memoryMegabytes = memoryMegabytes
        self.firmware = firmware
        self.networkDevice = networkDevice
        self.extraArguments = extraArguments
    }
}

/// How to drive U-Boot on a board type.
public struct UBootSettings: Sendable, Equatable {
    /// Pattern of U-Boot's command prompt (a regular expression), `=> ` by default.
    public var prompt: String
    /// Pattern of the autoboot countdown message.
    public var autobootPattern: String
    /// What to send to stop autoboot.
    public var interrupt: String
    /// Delay between characters sent, in milliseconds (real UARTs drop fast input).
    public var characterDelayMilliseconds: Int
    /// Run `dhcp` before loading (else the board must have a static `ipaddr`/`serverip`).
    public var dhcp: Bool
    /// Where the kernel is loaded.
    public var kernelAddress: Int
    /// Where the ramdisk is loaded.
    public var ramdiskAddress: Int
    /// Where a device tree is loaded; without one, U-Boot's own (`fdtcontroladdr`) is passed.
    public var dtbAddress: Int

    public init(
        prompt: String = "=> ", autobootPattern: String = "Hit any key to stop autoboot", interrupt: String = " ",
        characterDelayMilliseconds: Int = 0, dhcp: Bool = true, kernelAddress: Int, ramdiskAddress: Int, dtbAddress: Int
    ) {
        self.prompt = prompt
        self.autobootPattern = autobootPattern
        self.interrupt = interrupt
        self.characterDelayMilliseconds = characterDelayMilliseconds
        self.dhcp = dhcp
        self.kernelAddress = kernelAddress
        self.ramdiskAddress = ramdiskAddress
        self.dtbAddress = dtbAddress
    }
}

/// The longest time each stage may take, in seconds.
public struct StageTimeouts: Sendable, Equatable {
    /// From power on to the first bootloader output (or kernel output for direct boots).
    public var power: Double
    /// From bootloader start to the kernel starting, including every TFTP load.
    public var bootloader: Double
    /// From `Linux version` to the first user-space process.
    public var kernel: Double
    /// From the first user-space process to the shell prompt.
    public var userspace: Double

    public init(power: Double = 15, bootloader: Double = 60, kernel: Double = 60, userspace: Double = 60) {
        self.power = power
        self.bootloader = bootloader
        self.kernel = kernel
        self.userspace = userspace
    }

    /// The timeout of a stage; stages after the prompt fall back to `userspace`.
    public subscript(stage: Stage) -> Double {
        get {
            switch stage {
            case .power: power
            case .bootloader: bootloader
            case .kernel: kernel
            case .userspace, .prompt, .tests: userspace
            }
        }
        set {
            switch stage {
            case .power: power = newValue
            case .bootloader: bootloader = newValue
            case .kernel: kernel = newValue
            case .userspace, .prompt, .tests: userspace = newValue
            }
        }
    }
}

/// A known-good boot run on a board to tell whether it is healthy.
public struct HealthCheck: Sendable, Equatable {
    /// Kernel image path.
    public var kernel: String
    /// Ramdisk path, if any.
    public var ramdisk: String?
    /// Device tree path, if any.
    public var dtb: String?
    /// Shell prompt pattern, when it differs from the board type's.
    public var prompt: String?

    public init(kernel: String, ramdisk: String? = nil, dtb: String? = nil, prompt: String? = nil) {
        self.kernel = kernel
        self.ramdisk = ramdisk
        self.dtb = dtb
        self.prompt = prompt
    }
}

/// The order and delays of switching a board's power.
public struct PowerSequence: Sendable, Equatable {
    /// How long a board stays off before it is switched on, in seconds (capacitors drain,
    /// USB-serial adapters re-enumerate). Default 0.
    public var offSeconds: Double
    /// How long to wait after switching on before the boot is judged (supplies settle), in
    /// seconds. The console is recorded meanwhile. Default 0.
    public var settleSeconds: Double

    public init(offSeconds: Double = 0, settleSeconds: Double = 0) {
        self.offSeconds = offSeconds
        self.settleSeconds = settleSeconds
    }
}
