import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A lab of scripted fake boards for exercising an agent at scale: `fake-001`, `fake-002`, …,
/// powered by simulated 32-channel Numato relay modules (board N on module (N-1)/32, channel
/// (N-1)%32) and driven by one shared `ScriptedBoardScheduler`, plus the lab file that wires them.
///
/// Under `runDirectory` it creates `consoles/NAME` (each board's console link), `relays/numato-K`
/// (each module's device link) and `tftp/` (the TFTP root the boards read). The lab file, named
/// `sim-fake`, uses absolute paths and the `fake-arm64-uboot` board type from
/// `boardTypesDirectory`. Call `stop()` when done.
public final class ScriptedLab: Sendable {
    /// The lab's name in its file.
    public static let labName = "sim-fake"
    /// The board type every board has.
    public static let boardTypeName = "fake-arm64-uboot"
    /// Relays on each simulated Numato module.
    public static let channelsPerRelay = 32

    /// The boards, in name order.
    public let boards: [ScriptedBoard]
    /// The lab file written.
    public let labFile: String
    /// The TFTP root every board reads.
    public let tftpRoot: String
    private let relays: [SimulatedNumatoRelay]
    private let relayLinks: [String]
    private let scheduler: ScriptedBoardScheduler

    /// Creates `boardCount` boards, their relay modules and the lab file. Raises the process's
    /// soft limit on open files when the boards need more than it allows.
    ///
    /// - Parameters:
    ///   - boardCount: how many boards, at least 1.
    ///   - failures: how given boards go wrong, by board name; the others boot normally. Boards
    ///     failing with `relayTimeout` are muted channels of their module.
    ///   - runDirectory: the folder for links and the TFTP root (created when missing).
    ///   - boardTypesDirectory: the `board_types` folder the lab file names.
    ///   - labFile: where to write the lab file (default `runDirectory/sim-fake.yaml`).
    /// - Throws: `SimulationError` for a bad count, a failure naming an unknown board, or a PTY,
    ///   link or file that cannot be created (what was created is removed again).
    public init(
        boardCount: Int, failures: [String: ScriptedBoardFailure] = [:], runDirectory: String, boardTypesDirectory: String,
        labFile: String? = nil
    ) throws(SimulationError) {
        guard boardCount >= 1 else { throw .invalidBoardCount(boardCount) }
        let names = (1...boardCount).map { Self.boardName($0, boardCount: boardCount) }
        let known = Set(names)
        if let unknown = failures.keys.sorted().first(where: { !known.contains($0) }) {
            throw .unknownBoard(name: unknown, boardCount: boardCount)
        }
        let run = URL(fileURLWithPath: runDirectory).standardized.path
        let consoles = run + "/consoles"
        let relayFolder = run + "/relays"
        tftpRoot = run + "/tftp"
        self.labFile = labFile.map { URL(fileURLWithPath: $0).standardized.path } ?? run + "/\(Self.labName).yaml"
        for folder in [consoles, relayFolder, tftpRoot, (self.labFile as NSString).deletingLastPathComponent] {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw .cannotCreate(what: "folder", path: folder, reason: error.localizedDescription)
            }
        }
        let relayCount = (boardCount + Self.channelsPerRelay - 1) / Self.channelsPerRelay
        // Two descriptors a board and four a relay module, with room for a reader in this process.
        Self.raiseOpenFileLimit(to: 3 * boardCount + 4 * relayCount + 256)

        let scheduler = try ScriptedBoardScheduler()
        var boards: [ScriptedBoard] = []
        var relays: [SimulatedNumatoRelay] = []
        var relayLinks: [String] = []
        do {
            for name in names {
                boards.append(
                    try ScriptedBoard(
                        name: name, consoleLink: consoles + "/" + name, tftpRoot: tftpRoot, failure: failures[name] ?? .none,
                        scheduler: scheduler))
            }
            for relayIndex in 0..<relayCount {
                let first = relayIndex * Self.channelsPerRelay
                let wired = Array(boards[first..<min(boards.count, first + Self.channelsPerRelay)])
                let relay: SimulatedNumatoRelay
                do {
                    relay = try SimulatedNumatoRelay(channelCount: Self.channelsPerRelay) { channel, isOn in
                        if channel < wired.count { wired[channel].setPower(isOn) }
                    }
                } catch {
                    throw SimulationError.cannotCreate(what: "Numato relay module", path: "", reason: "\(error)")
                }
                relays.append(relay)
                relay.mutedChannels = Set(wired.indices.filter { wired[$0].failure == .relayTimeout })
                let link = relayFolder + "/numato-\(relayIndex)"
                unlink(link)
                guard symlink(relay.devicePath, link) == 0 else {
                    throw SimulationError.cannotCreate(what: "relay link", path: link, reason: String(cString: strerror(errno)))
                }
                relayLinks.append(link)
            }
            // Scripted boards boot whatever file U-Boot fetches: the health check's kernel is a
            // small file of the simulator's own.
            let healthKernel = run + "/health-check-Image"
            guard FileManager.default.createFile(atPath: healthKernel, contents: Data("scripted board kernel\n".utf8)) else {
                throw SimulationError.cannotCreate(what: "health check kernel", path: healthKernel, reason: "cannot write it")
            }
            let text = Self.labText(
                boards: boards, relayLinks: relayLinks, boardTypesDirectory: URL(fileURLWithPath: boardTypesDirectory).standardized.path,
                tftpRoot: tftpRoot, healthKernel: healthKernel)
            do {
                try text.write(toFile: self.labFile, atomically: true, encoding: .utf8)
            } catch {
                throw SimulationError.cannotCreate(what: "lab file", path: self.labFile, reason: error.localizedDescription)
            }
        } catch {
            for board in boards { board.stop() }
            for relay in relays { relay.stop() }
            for link in relayLinks { unlink(link) }
            scheduler.stop()
            throw error as? SimulationError ?? .cannotCreate(what: "scripted lab", path: run, reason: "\(error)")
        }
        self.boards = boards
        self.relays = relays
        self.relayLinks = relayLinks
        self.scheduler = scheduler
    }

    /// Board `number` (from 1) of a lab of `boardCount`: `fake-001`, with at least three digits.
    public static func boardName(_ number: Int, boardCount: Int) -> String {
        let width = max(3, String(boardCount).count)
        let digits = String(number)
        return "fake-" + String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// The board named `name`, if the lab has it.
    public func board(named name: String) -> ScriptedBoard? {
        boards.first { $0.name == name }
    }

    /// Powers every board off, closes every PTY and removes the links; the lab file stays.
    public func stop() {
        for board in boards { board.stop() }
        for relay in relays { relay.stop() }
        for link in relayLinks { unlink(link) }
        scheduler.stop()
    }

    /// The lab file: every board on its module's device and channel, its console at 115200 baud.
    static func labText(
        boards: [ScriptedBoard], relayLinks: [String], boardTypesDirectory: String, tftpRoot: String, healthKernel: String
    ) -> String {
        var text = """
            # Scripted fake boards simulated by `bootfarm sim --boards \(boards.count)`; valid while it runs.
            name: \(labName)
            board_types: \(quoted(boardTypesDirectory))
            tftp_root: \(quoted(tftpRoot))
            boards:

            """
        for (index, board) in boards.enumerated() {
            let relay = relayLinks[index / channelsPerRelay]
            text += """
                  \(board.name):
                    type: \(boardTypeName)
                    power: {kind: numato, device: \(quoted(relay)), channel: \(index % channelsPerRelay)}
                    console: {kind: serial, device: \(quoted(board.consoleLink)), baud: 115200}

                """
        }
        text += """
            health_checks:
              \(boardTypeName): {kernel: \(quoted(healthKernel))}

            """
        return text
    }

    /// `text` as a double-quoted YAML scalar.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text.unicodeScalars {
            switch character {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            default: result.unicodeScalars.append(character)
            }
        }
        return result + "\""
    }

    /// Raises this process's soft limit on open files towards `count` (up to the hard limit):
    /// hundreds of boards need more descriptors than the usual 1024.
    private static func raiseOpenFileLimit(to count: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(count) else { return }
        limit.rlim_cur = min(limit.rlim_max, rlim_t(count))
        _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
