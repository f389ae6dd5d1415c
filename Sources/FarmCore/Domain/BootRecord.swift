/// One boot as stored: who booted what, where, and how it ended.
public struct BootRecord: Sendable, Codable, Hashable {
    /// Stable unique id (a UUID unless imported with its own).
    public var id: String
    /// The lab that ran the boot.
    public var lab: String
    /// The board's name within its lab.
    public var board: String
    /// The board type, such as `qemu-arm64-uboot`.
    public var boardType: String
    public var revision: Revision
    public var build: Build
    /// Wall-clock start, UTC ISO-8601.
    public var startedAt: String
    /// Wall-clock end, UTC ISO-8601.
    public var finishedAt: String?
    public var status: BootStatus
    /// The furthest stage reached (for a failure: where it failed).
    public var stage: Stage
    /// One line saying why a boot did not pass; empty for a pass.
    public var reason: String
    /// The kernel's own timestamp at the prompt, in seconds.
    public var bootTimeSeconds: Double?
    /// Number of kernel `WARNING:` blocks in the log.
    public var warnings: Int
    /// Seconds since power-on at which each stage was first reached.
    public var stageTimes: [Stage: Double]
    /// Energy used during the boot, in joules, where a power meter was sampled.
    public var energyJoules: Double?
    /// Mean power during the boot, in watts.
    public var averagePowerWatts: Double?
    /// Peak power during the boot, in watts.
    public var peakPowerWatts: Double?

    public init(
        id: String, lab: String, board: String, boardType: String, revision: Revision, build: Build,
        startedAt: String, finishedAt: String? = nil, status: BootStatus, stage: Stage, reason: String = "",
        bootTimeSeconds: Double? = nil, warnings: Int = 0, stageTimes: [Stage: Double] = [:],
        energyJoules: Double? = nil, averagePowerWatts: Double? = nil, peakPowerWatts: Double? = nil
    ) {
        self.id = id
        self.lab = lab
        self.board = board
        self.boardType = boardType
        self.revision = revision
        self.build = build
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.status = status
        self.stage = stage
        self.reason = reason
        self.bootTimeSeconds = bootTimeSeconds
        self.warnings = warnings
        self.stageTimes = stageTimes
        self.energyJoules = energyJoules
        self.averagePowerWatts = averagePowerWatts
        self.peakPowerWatts = peakPowerWatts
    }
}
