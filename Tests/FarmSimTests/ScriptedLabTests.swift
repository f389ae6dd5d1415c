import FarmCore
import FarmDrivers
import FarmSim
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Labs of scripted boards: the lab file they write, their relay wiring, and their cost at scale.
@Suite(.serialized) struct ScriptedLabTests {
    /// The repository's board types.
    static let boardTypes = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("boards").path

    static func temporaryFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("scripted-lab-\(UUID().uuidString)").path
    }

    @Test func scriptedLabWritesALabFileThatLoadsAndWiresEachBoardToItsRelayChannel() async throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let lab = try ScriptedLab(
            boardCount: 40, failures: ["fake-002": .panic, "fake-034": .relayTimeout], runDirectory: folder + "/run",
            boardTypesDirectory: Self.boardTypes, labFile: folder + "/labs/fake.yaml")
        defer { lab.stop() }
        #expect(lab.labFile == folder + "/labs/fake.yaml")
        #expect(lab.boards.map(\.name).prefix(3) == ["fake-001", "fake-002", "fake-003"])
        #expect(lab.boards.last?.name == "fake-040")
        #expect(lab.board(named: "fake-002")?.failure == .panic)

        let config = try LabConfig.load(lab.labFile)
        #expect(config.name == "sim-fake")
        #expect(config.boards.count == 40)
        let board = try #require(config.boards.first { $0.name == "fake-035" })
        #expect(board.type.name == "fake-arm64-uboot")
        #expect(board.type.qemu == nil)
        #expect(board.type.bootMethod == .uBoot)
        #expect(board.tftpRoot == lab.tftpRoot)
        guard case .numato(.path(let relayDevice), let channel, _, _) = board.power,
            case .serial(.path(let consoleDevice), let baud) = board.console
        else {
            Issue.record("fake-035 is not wired to a Numato relay and a serial console: \(board.power), \(board.console)")
            return
        }
        #expect(relayDevice == folder + "/run/relays/numato-1")
        #expect(channel == 2)
        #expect(consoleDevice == folder + "/run/consoles/fake-035")
        #expect(baud == 115200)

        // The real driver switches the board through its relay channel.
        let console = try SerialConsoleReader(path: consoleDevice)
        let relay = try NumatoRelayPowerSwitch(name: "fake-035", device: relayDevice, channel: channel)
        try await relay.on()
        #expect(lab.board(named: "fake-035")?.isPowered == true)
        #expect(console.waitFor("Hit any key to stop autoboot") != nil)
        try await relay.off()
        #expect(lab.board(named: "fake-035")?.isPowered == false)

        // fake-034, on the channel before, never gets an answer from the relay module.
        let muted = try NumatoRelayPowerSwitch(name: "fake-034", device: relayDevice, channel: 1, timeoutSeconds: 0.2, retries: 0)
        await #expect(throws: PowerError.self) { try await muted.on() }
        #expect(lab.board(named: "fake-034")?.isPowered == false)
    }

    @Test func aFailureForABoardTheLabLacksIsRefused() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        #expect(throws: SimulationError.unknownBoard(name: "fake-009", boardCount: 8)) {
            _ = try ScriptedLab(boardCount: 8, failures: ["fake-009": .hang], runDirectory: folder, boardTypesDirectory: Self.boardTypes)
        }
        #expect(throws: SimulationError.invalidBoardCount(0)) {
            _ = try ScriptedLab(boardCount: 0, runDirectory: folder, boardTypesDirectory: Self.boardTypes)
        }
        #expect(ScriptedLab.boardName(7, boardCount: 256) == "fake-007")
        #expect(ScriptedLab.boardName(7, boardCount: 1200) == "fake-0007")
    }

    /// 256 boards autoboot at once while one reader follows every console: all reach the shell
    /// prompt at the line rate, on one scheduler thread (plus one per 32-board relay module), in
    /// well under 2 MB a board.
    @Test func twoHundredFiftySixBoardsBootAtOnceOnOneThreadInLittleMemory() throws {
        let folder = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let threadsBefore = Self.threadCount()
        let memoryBefore = Self.residentBytes()
        let lab = try ScriptedLab(boardCount: 256, runDirectory: folder, boardTypesDirectory: Self.boardTypes)
        defer { lab.stop() }
        #expect(Self.threadCount() - threadsBefore <= 1 + 8 + 2, "one scheduler thread and one per relay module")

        let descriptors = try lab.boards.map { board in
            let descriptor = open(board.consoleLink, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
            try #require(descriptor >= 0, "cannot open \(board.consoleLink)")
            var settings = termios()
            tcgetattr(descriptor, &settings)
            cfmakeraw(&settings)
            tcsetattr(descriptor, TCSANOW, &settings)
            return descriptor
        }
        defer { for descriptor in descriptors { close(descriptor) } }
        var usageBefore = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usageBefore)
        let started = Date()
        for board in lab.boards { board.setPower(true) }

        // Each console's last bytes, to spot the prompt; byte counts per board.
        var tails = Array(repeating: [UInt8](), count: descriptors.count)
        var byteCounts = Array(repeating: 0, count: descriptors.count)
        var finished = Set<Int>()
        var pollers = descriptors.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let prompt = Array("/ # ".utf8)
        while finished.count < descriptors.count && Date().timeIntervalSince(started) < 30 {
            for index in pollers.indices { pollers[index].revents = 0 }
            guard poll(&pollers, nfds_t(pollers.count), 100) > 0 else { continue }
            for index in pollers.indices where pollers[index].revents & Int16(POLLIN) != 0 {
                let count = buffer.withUnsafeMutableBytes { read(descriptors[index], $0.baseAddress, $0.count) }
                guard count > 0 else { continue }
                byteCounts[index] += count
                tails[index] = Array((tails[index] + buffer[0..<count]).suffix(prompt.count))
                if tails[index] == prompt { finished.insert(index) }
            }
        }
        let seconds = Date().timeIntervalSince(started)
        var usageAfter = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usageAfter)
        let memoryPerBoard = (Self.residentBytes() - memoryBefore) / 256
        let cpuBefore = Self.seconds(usageBefore.ru_utime) + Self.seconds(usageBefore.ru_stime)
        let cpuSeconds = Self.seconds(usageAfter.ru_utime) + Self.seconds(usageAfter.ru_stime) - cpuBefore
        let line =
            "SCRIPTED-SCALE boards=256 seconds=\(String(format: "%.2f", seconds)) cpu_seconds=\(String(format: "%.2f", cpuSeconds)) "
            + "bytes_per_board=\(byteCounts.min() ?? 0) resident_bytes_per_board=\(memoryPerBoard) threads_added=\(Self.threadCount() - threadsBefore)"
        print(line)

        #expect(finished.count == 256, "\(finished.count) of 256 boards reached the prompt in \(seconds) s")
        // 2 s of countdown, then about 16 KB at 11,520 bytes a second.
        #expect(seconds >= 3 && seconds < 10)
        #expect(memoryPerBoard < 2_000_000)
        // The whole process (the scheduler and this test's reader) stays far from a core.
        #expect(cpuSeconds < seconds * 0.8, Comment(rawValue: line))
    }

    static func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }

    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    static func seconds(_ time: timeval) -> Double {
        Double(time.tv_sec) + Double(time.tv_usec) / 1e6
    }
}
