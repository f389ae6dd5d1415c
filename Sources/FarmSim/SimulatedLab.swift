import FarmCore
import FarmDrivers
import Foundation

/// The hardware of a lab file, simulated: for every board powered by an LCUS or Numato relay,
/// a relay board on a PTY that speaks the real protocol (linked at the lab's device path), a
/// QEMU board behind it whose UART is a PTY (linked at the console device path), and, when the
/// lab names a meter, a hwmon or IIO directory following the board's power. The real drivers
/// then run against it unchanged.
public final class SimulatedLab: @unchecked Sendable {
    /// The boards simulated.
    public private(set) var boards: [SimulatedBoard] = []
    private var lcusRelays: [String: SimulatedLCUSRelay] = [:]
    private var numatoRelays: [String: SimulatedNumatoRelay] = [:]
    private var links: [String] = []

    /// Builds the simulation of `lab` under `runDirectory` (QEMU sockets and logs).
    /// `meter` creates a board's simulated power sensor at the lab's meter path and returns the
    /// hook that tells it the board's stage.
    public init(
        lab: LabConfig, runDirectory: String,
        meter: (BoardConfig, MeterResource) throws -> @Sendable (Stage?) -> Void = { _, _ in { _ in } }
    ) throws {
        for config in lab.boards {
            // Simulated devices are named by path: the simulator creates them there.
            guard let machine = config.type.qemu, case .serial(.path(let consolePath), _) = config.console, let tftpRoot = config.tftpRoot
            else {
                continue
            }
            let relay: (device: String, channel: Int)
            switch config.power {
            case .lcus(.path(let device), let channel, _): relay = (device, channel)
            case .numato(.path(let device), let channel, _, _): relay = (device, channel)
            default: continue
            }
            try FileManager.default.createDirectory(atPath: tftpRoot, withIntermediateDirectories: true)
            let board = try SimulatedBoard(
                name: config.name, machine: machine, tftpRoot: tftpRoot, consoleLink: consolePath,
                runDirectory: (runDirectory as NSString).appendingPathComponent(config.name))
            if let resource = config.meter, resource.path != nil {
                let hook = try meter(config, resource)
                board.onStage = hook
                hook(nil)
            }
            boards.append(board)
            links.append(consolePath)
            switch config.power {
            case .lcus:
                if lcusRelays[relay.device] == nil {
                    lcusRelays[relay.device] = try SimulatedLCUSRelay { [weak self] channel, isOn in
                        self?.switchBoard(device: relay.device, channel: channel, on: isOn)
                    }
                }
            default:
                if numatoRelays[relay.device] == nil {
                    numatoRelays[relay.device] = try SimulatedNumatoRelay(channelCount: 32) { [weak self] channel, isOn in
                        self?.switchBoard(device: relay.device, channel: channel, on: isOn)
                    }
                }
            }
            wiring.append((relay.device, relay.channel, board))
        }
        for (device, relay) in lcusRelays { try link(device, to: relay.devicePath) }
        for (device, relay) in numatoRelays { try link(device, to: relay.devicePath) }
    }

    private var wiring: [(device: String, channel: Int, board: SimulatedBoard)] = []

    private func link(_ path: String, to target: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? FileManager.default.removeItem(atPath: path)
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
        links.append(path)
    }

    private func switchBoard(device: String, channel: Int, on: Bool) {
        guard let board = wiring.first(where: { $0.device == device && $0.channel == channel })?.board else { return }
        Task {
            do {
                try await board.setPower(on)
            } catch {
                FileHandle.standardError.write(Data("sim: board \(board.name): power \(on ? "on" : "off") failed: \(error)\n".utf8))
            }
        }
    }

    /// Powers every board off and removes the device links.
    public func stop() async {
        for board in boards { await board.stop() }
        for relay in lcusRelays.values { relay.stop() }
        for relay in numatoRelays.values { relay.stop() }
        for path in links { try? FileManager.default.removeItem(atPath: path) }
    }
}
