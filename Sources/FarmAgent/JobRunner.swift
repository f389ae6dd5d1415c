import FarmCore
import FarmDrivers
import Foundation
import Logging

/// Boots one job on one board: power on, drive the bootloader, watch the kernel to the shell
/// prompt, power off, and describe what happened. The sequencing lives in `BootStateMachine`;
/// this is the thin loop that performs its actions.
///
/// The board is always powered off at the end, whatever happened (error, timeout, cancellation).
public struct JobRunner: Sendable {
    public let lab: String
    public let board: BoardConfig
    public let job: BootJob
    public var logger = Logger(label: "bootfarm.runner")
    /// How long a serial console may vanish (USB re-enumeration) before the boot is an
    /// infrastructure error, in seconds; 0 treats a vanished console as closed at once.
    public var consoleReturnSeconds: Double = 10
    /// The threads that read the board's power meter; nil gives the meter threads of its own.
    /// An agent gives all its boards one, so that meters of the same rate are read in one
    /// wake-up instead of one each.
    public var samplingThread: PowerSamplingThread?
    /// The thread that reads the board's meter when it is a buffered IIO device; nil gives it
    /// one of its own.
    public var bufferReader: IIOBufferReader?

    public init(lab: String, board: BoardConfig, job: BootJob) {
        self.lab = lab
        self.board = board
        self.job = job
    }

    /// Runs the boot; never throws: every failure is in the record.
    public func run(progress: @escaping @Sendable (BootProgress) -> Void = { _ in }) async -> BootResult {
        let id = UUID().uuidString.lowercased()
        let startedAt = Self.timestamp()
        let clock = BootClock()
        let workDirectory = FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-\(id.prefix(8))").path
        var analyzer = LogAnalyzer()
        var verdict: BootVerdict
        var transcript = ConsoleTranscript()
        var power: (any PowerSwitch)?
        var console: (any Console)?
        var stagedFolder: String?
        var sampler: (any PowerRecorder)?
        var tests: [TestCase] = []

        do {
            let prepared = try prepare(id: id, workDirectory: workDirectory)
            stagedFolder = prepared.stagedFolder
            power = prepared.power
            if let meter = board.meter {
                sampler = try Self.sampler(for: meter, clock: clock, thread: samplingThread, bufferReader: bufferReader)
            }
            let opened = try await powerOn(prepared.power, clock: clock, progress: progress, afterClockStart: { sampler?.start() })
            console = opened
            verdict = try await drive(opened, prepared: prepared, clock: clock, analyzer: &analyzer, progress: progress)
            if verdict.status == .pass && !job.tests.isEmpty {
                tests = try await runTests(on: opened, clock: clock, progress: progress)
                analyzer.reach(.tests, at: clock.nanoseconds)
                verdict = BootVerdict(status: .pass, stage: .tests, reason: verdict.reason)
            }
        } catch is CancellationError {
            verdict = BootVerdict(status: .canceled, stage: analyzer.analysis.stage, reason: "canceled")
        } catch {
            verdict = BootVerdict(status: .error, stage: analyzer.analysis.stage, reason: "\(error)")
        }

        if let console {
            transcript = console.transcript
            await console.close()
        }
        if let power {
            progress(.note("power off", atSeconds: clock.seconds))
            do {
                try await power.off()
            } catch {
                logger.error("power off of \(board.name) failed: \(error)")
                if verdict.status == .pass { verdict = BootVerdict(status: .error, stage: .prompt, reason: "power off failed: \(error)") }
            }
        }
        // The meter keeps sampling until the board is off, so the trace ends at zero.
        let sampling = sampler?.stop()
        if let stagedFolder { try? FileManager.default.removeItem(atPath: stagedFolder) }
        try? FileManager.default.removeItem(atPath: workDirectory)

        analyzer.consume(transcript, includingOpenLine: true)
        let outcome = BootOutcome.resolve(verdict, analysis: analyzer.analysis, consoleBytes: transcript.bytes.count)
        var build = job.build
        if build.arch.isEmpty { build.arch = board.type.arch }
        if build.kernelImageSizeBytes == nil { build.kernelImageSizeBytes = Self.fileSize(job.kernel) }
        var stageTimes = analyzer.analysis.stageTimes
        stageTimes[.power] = 0
        var bootPower: BootPower?
        if let sampling {
            // The split ends at the last sample (the trace starts at power-on, time 0).
            let end = sampling.trace.last?.seconds ?? 0
            bootPower = BootPower(
                trace: sampling.trace, stageEnergyJoules: sampling.trace.energyPerStage(stageTimes: stageTimes, end: end),
                lostSamples: sampling.lostSamples, warnings: sampling.warnings)
        }
        let record = BootRecord(
            id: id, lab: lab, board: board.name, boardType: board.type.name, revision: job.revision, build: build,
            startedAt: startedAt, finishedAt: Self.timestamp(), status: outcome.status, stage: outcome.stage, reason: outcome.reason,
            bootTimeSeconds: outcome.status == .pass ? analyzer.analysis.bootTimeSeconds : nil,
            warnings: analyzer.analysis.warnings.count, stageTimes: stageTimes,
            energyJoules: bootPower.flatMap { $0.trace.isEmpty ? nil : $0.trace.energyJoules },
            averagePowerWatts: bootPower?.trace.averageWatts, peakPowerWatts: bootPower?.trace.peakWatts)
        return BootResult(record: record, transcript: transcript, analysis: analyzer.analysis, power: bootPower, tests: tests)
    }

    /// The result of a job that never reached the board (its files could not be had, or it was
    /// canceled first): nothing was powered.
    public static func unstartedResult(lab: String, board: BoardConfig, spec: JobSpec, status: BootStatus, reason: String) -> BootResult {
        let now = timestamp()
        var build = spec.build
        if build.arch.isEmpty { build.arch = board.type.arch }
        let record = BootRecord(
            id: UUID().uuidString.lowercased(), lab: lab, board: board.name, boardType: board.type.name, revision: spec.revision,
            build: build, startedAt: now, finishedAt: now, status: status, stage: .power, reason: reason)
        return BootResult(record: record, transcript: ConsoleTranscript(), analysis: LogAnalysis(), power: nil)
    }

    // MARK: Steps

    struct Prepared {
        var power: any PowerSwitch
        var stagedFolder: String?
        var files: BootFiles?
        var machine: BootStateMachine
    }

    /// Stages the files for TFTP and builds the power switch and the state machine.
    func prepare(id: String, workDirectory: String) throws -> Prepared {
        let type = board.type
        var timeouts = type.timeouts
        for (stage, seconds) in job.timeouts { timeouts[stage] = seconds }
        let prompt = try ConsolePattern.regex(job.prompt ?? type.shellPrompt)
        let bootArguments = (["console=\(type.consoleDevice)", type.bootArguments, job.extraBootArguments])
            .filter { !$0.isEmpty }.joined(separator: " ")
        try FileManager.default.createDirectory(atPath: workDirectory, withIntermediateDirectories: true)

        let power = try Self.powerSwitch(for: board, runDirectory: workDirectory)
        let qemu = power as? QEMUPowerSwitch

        switch type.bootMethod {
        case .qemuDirect:
            guard let qemu else { throw PowerError.unexpectedAnswer(what: "board \(board.name)", answer: "direct boot needs a QEMU board") }
            qemu.directBoot = (job.kernel, job.ramdisk, job.dtb, bootArguments)
            let machine = try BootStateMachine(uBoot: nil, commands: [], shellPrompt: prompt, timeouts: timeouts)
            return Prepared(power: qemu, stagedFolder: nil, files: nil, machine: machine)
        case .uBoot:
            guard let settings = type.uBoot else {
                throw PowerError.unexpectedAnswer(what: "board type \(type.name)", answer: "no u_boot settings")
            }
            let root = board.tftpRoot ?? (workDirectory as NSString).appendingPathComponent("tftp")
            let relative = "bootfarm/\(id)"
            let folder = (root as NSString).appendingPathComponent(relative)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            func stage(_ path: String, as name: String) throws -> String {
                let target = (folder as NSString).appendingPathComponent(name)
                // A hard link costs nothing when the TFTP root shares the file system; else copy.
                if link(path, target) != 0 { try FileManager.default.copyItem(atPath: path, toPath: target) }
                return "\(relative)/\(name)"
            }
            let files = BootFiles(
                kernel: try stage(job.kernel, as: (job.kernel as NSString).lastPathComponent),
                ramdisk: try job.ramdisk.map { try stage($0, as: "ramdisk") },
                ramdiskSizeBytes: job.ramdisk.flatMap(Self.fileSize) ?? 0,
                dtb: try job.dtb.map { try stage($0, as: "board.dtb") })
            if let qemu, qemu.tftpRoot == nil { qemu.tftpRoot = root }
            let commands = UBootCommand.script(for: type, settings: settings, files: files, bootArguments: bootArguments)
            let machine = try BootStateMachine(uBoot: settings, commands: commands, shellPrompt: prompt, timeouts: timeouts)
            return Prepared(power: power, stagedFolder: folder, files: files, machine: machine)
        }
    }

    /// The driver of a board's power switch.
    static func powerSwitch(for board: BoardConfig, runDirectory: String) throws -> any PowerSwitch {
        switch board.power {
        case .qemu(let resource):
            guard let machine = board.type.qemu else {
                throw PowerError.unexpectedAnswer(what: "board \(board.name)", answer: "board type \(board.type.name) has no qemu section")
            }
            return QEMUPowerSwitch(machine: machine, resource: resource, runDirectory: runDirectory)
        case .lcus(let device, let channel, let inverted):
            let path = try DeviceResolver.resolve(device, subsystems: ["tty"])
            return try LCUSRelayPowerSwitch(name: board.name, device: path, channel: channel, inverted: inverted)
        case .numato(let device, let channel, let baud, let inverted):
            let path = try DeviceResolver.resolve(device, subsystems: ["tty"])
            return try NumatoRelayPowerSwitch(name: board.name, device: path, channel: channel, inverted: inverted, baud: baud)
        case .hidRelay(let relay, let channel):
            return HIDRelayPowerSwitch(board: relay, channel: channel)
        case .pdudaemon(let server, let port, let pdu, let outlet):
            return PDUDaemonPowerSwitch(server: server, serverPort: port, pduHostname: pdu, outlet: outlet)
        case .command(let on, let off, let cycle, let timeout):
            return CommandPowerSwitch(onCommand: on, offCommand: off, cycleCommand: cycle, timeoutSeconds: timeout)
        }
    }

    /// Powers the board on with its console attached first, so no output is lost.
    /// What records `meter`, stamping with `clock`: the device's own buffer for a buffered IIO
    /// meter (read by `bufferReader`, or a thread of its own), else a sampler on `thread` (nil:
    /// threads of its own).
    static func sampler(
        for meter: MeterResource, clock: BootClock, thread: PowerSamplingThread?, bufferReader: IIOBufferReader? = nil
    ) throws -> any PowerRecorder {
        if meter.buffered {
            return try IIOBufferedCapture(
                directory: try DeviceResolver.resolve(meter.device, subsystems: ["iio"]), bufferDevice: meter.bufferDevice,
                rateHz: meter.rateHz, reader: bufferReader, clock: clock)
        }
        return try PowerSampler(
            meter: try powerMeter(meter), clock: clock, rateHz: meter.rateHz, voltageAndCurrentRateHz: meter.voltageAndCurrentRateHz,
            thread: thread)
    }

    /// The driver of a board's power meter.
    static func powerMeter(_ meter: MeterResource) throws -> any PowerMeter {
        switch meter.kind {
        case .hwmon: try HwmonPowerMeter(directory: try DeviceResolver.resolve(meter.device, subsystems: ["hwmon"]))
        case .iio: try IIOPowerMeter(directory: try DeviceResolver.resolve(meter.device, subsystems: ["iio"]))
        }
    }

    func powerOn(
        _ power: any PowerSwitch, clock: BootClock, progress: (BootProgress) -> Void, afterClockStart: () -> Void = {}
    ) async throws -> any Console {
        progress(.note("power on (\(board.power.kind))", atSeconds: 0))
        if let qemu = power as? QEMUPowerSwitch {
            try await qemu.start()
            let console = StreamConsole(endpoint: try consoleEndpoint(qemuPTY: qemu.consolePath))
            try await console.open(clock: clock)
            clock.start()
            afterClockStart()
            try await qemu.resume()
            return console
        }
        // A board left on (by a crash, or by hand) starts from off, like every other boot.
        let sequence = board.type.powerSequence
        try await power.off()
        if sequence.offSeconds > 0 {
            progress(.note(String(format: "power off, waiting %.1f s", sequence.offSeconds), atSeconds: 0))
            try await Task.sleep(for: .seconds(sequence.offSeconds))
        }
        let endpoint = try consoleEndpoint(qemuPTY: nil)
        // A USB-serial console may re-enumerate when the board's power switches: wait for it.
        let reopen: ConsoleReopenPolicy? =
            if case .serial = endpoint, consoleReturnSeconds > 0 { ConsoleReopenPolicy(waitSeconds: consoleReturnSeconds) } else { nil }
        let console = StreamConsole(endpoint: endpoint, reopen: reopen)
        try await console.open(clock: clock)
        clock.start()
        afterClockStart()
        try await power.on()
        if sequence.settleSeconds > 0 {
            // The console records meanwhile; only the judging waits for the supply to settle.
            try await Task.sleep(for: .seconds(sequence.settleSeconds))
        }
        return console
    }

    /// Where the board's console is; `qemuPTY` is the PTY a started QEMU reported, if any.
    func consoleEndpoint(qemuPTY: String?) throws -> ConsoleEndpoint {
        switch board.console {
        case .qemuPTY:
            guard let path = qemuPTY else {
                throw ConsoleError.cannotOpen(location: "QEMU PTY", reason: "QEMU reported no PTY for its serial port")
            }
            return .serial(path: path, baud: 115200)
        case .serial(let device, let baud):
            return .serial(path: try DeviceResolver.resolve(device, subsystems: ["tty"]), baud: baud)
        case .tcp(let host, let port):
            return .tcp(host: host, port: port)
        }
    }

    /// Performs the state machine's actions until it finishes.
    func drive(
        _ console: any Console, prepared: Prepared, clock: BootClock, analyzer: inout LogAnalyzer,
        progress: (BootProgress) -> Void
    ) async throws -> BootVerdict {
        var machine = prepared.machine
        var action = machine.handle(.poweredOn(at: clock.seconds))
        while true {
            switch action {
            case .finish(let verdict):
                return verdict
            case .send(let text, let delay):
                let shown = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !shown.isEmpty { progress(.command(shown, atSeconds: clock.seconds)) }
                try await console.send(text, characterDelayMilliseconds: delay)
                action = machine.handle(.sent(at: clock.seconds))
            case .expect(let patterns, let deadline):
                let result: ConsoleExpectation
                do {
                    result = try await console.expect(patterns, deadline: deadline)
                } catch let error as ConsoleError {
                    if case .closed = error {
                        action = machine.handle(.consoleClosed(at: clock.seconds))
                        continue
                    }
                    throw error
                }
                let before = analyzer.analysis.stage
                analyzer.consume(console.transcript)
                switch result {
                case .matched(let match, let output):
                    action = machine.handle(.matched(patternIndex: match.patternIndex, output: output, at: clock.seconds))
                    if machine.stage == .prompt { analyzer.promptReached(atNanoseconds: match.timeNanoseconds) }
                case .timedOut:
                    action = machine.handle(.timedOut(at: clock.seconds))
                }
                if analyzer.analysis.stage > before {
                    let stage = analyzer.analysis.stage
                    progress(
                        .stage(
                            stage, atSeconds: analyzer.analysis.stageTimes[stage] ?? clock.seconds,
                            detail: detail(for: stage, analyzer.analysis)))
                }
            }
        }
    }

    func detail(for stage: Stage, _ analysis: LogAnalysis) -> String {
        switch stage {
        case .bootloader: analysis.bootloaderBanner ?? ""
        case .kernel: analysis.kernelVersionLine.map { String($0.prefix(60)) } ?? ""
        case .prompt: analysis.bootTimeSeconds.map { String(format: "kernel time %.2f s", $0) } ?? ""
        default: ""
        }
    }

    static func fileSize(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
