import FarmCore

/// What to boot: the files, the revision they were built from, and per-job overrides.
public struct BootJob: Sendable {
    /// Kernel image path.
    public var kernel: String
    /// Ramdisk (initramfs) path.
    public var ramdisk: String?
    /// Device tree path.
    public var dtb: String?
    /// Shell prompt pattern (a regular expression) overriding the board type's.
    public var prompt: String?
    /// Extra kernel command-line arguments.
    public var extraBootArguments: String
    /// Per-stage timeout overrides, in seconds.
    public var timeouts: [Stage: Double]
    public var revision: Revision
    public var build: Build
    /// Shell commands run once the prompt is reached.
    public var tests: [TestDefinition]

    public init(
        kernel: String, ramdisk: String? = nil, dtb: String? = nil, prompt: String? = nil, extraBootArguments: String = "",
        timeouts: [Stage: Double] = [:], revision: Revision = Revision(), build: Build = Build(), tests: [TestDefinition] = []
    ) {
        self.kernel = kernel
        self.ramdisk = ramdisk
        self.dtb = dtb
        self.prompt = prompt
        self.extraBootArguments = extraBootArguments
        self.timeouts = timeouts
        self.revision = revision
        self.build = build
        self.tests = tests
    }
}

/// Something worth telling the person watching a boot.
public enum BootProgress: Sendable {
    /// The boot reached a stage; `detail` says what showed it.
    case stage(Stage, atSeconds: Double, detail: String)
    /// A command was sent to the bootloader.
    case command(String, atSeconds: Double)
    /// Anything else (powering on, powering off).
    case note(String, atSeconds: Double)
}

/// A finished boot: the record, its console transcript and what the log showed.
public struct BootResult: Sendable {
    public var record: BootRecord
    public var transcript: ConsoleTranscript
    public var analysis: LogAnalysis
    /// The power meter's recording, when the board has a meter.
    public var power: BootPower?
    /// Results of the tests run after boot, in order.
    public var tests: [TestCase] = []
}
