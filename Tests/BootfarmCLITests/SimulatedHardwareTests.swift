import FarmCore
import FarmStore
import Foundation
import Testing

/// Boots through the real relay and meter drivers against `bootfarm sim`: relay boards on PTYs
/// speaking the LCUS and Numato protocols, a QEMU board behind each relay channel, a hwmon sensor
/// directory and an IIO device in buffered mode following the boards' power.
@Suite("booting through simulated relays and meters", .serialized)
struct SimulatedHardwareTests {
    static let lab = """
        name: sim-hw-test
        tftp_root: ../sim/tftp
        boards:
          relay-lcus:
            type: qemu-arm64-uboot
            power: {kind: lcus, device: ../sim/lcus0, channel: 2}
            console: {kind: serial, device: ../sim/relay-lcus.tty}
            meter: {kind: hwmon, path: ../sim/hwmon/relay-lcus, rate_hz: 100}
          relay-numato:
            type: qemu-arm64-uboot
            power: {kind: numato, device: ../sim/numato0, channel: 3}
            console: {kind: serial, device: ../sim/relay-numato.tty}
            meter: {kind: iio, path: ../sim/iio/relay-numato, buffer: true, buffer_device: ../sim/iio/relay-numato.buffer, rate_hz: 1000}
        """

    /// Runs `bootfarm sim` for the lab while `body` runs, and stops it afterwards.
    func withSimulation(_ lab: URL, _ body: () throws -> Void) throws {
        let simulation = Process()
        simulation.executableURL = Harness.binary
        simulation.arguments = [
            "sim", "--lab", lab.path, "--run-directory", lab.deletingLastPathComponent().appendingPathComponent("run").path,
        ]
        let output = Pipe()
        simulation.standardOutput = output
        simulation.standardError = FileHandle.nullDevice
        try simulation.run()
        defer {
            kill(simulation.processIdentifier, SIGINT)
            let deadline = Date().addingTimeInterval(20)
            while simulation.isRunning && Date() < deadline { usleep(50_000) }
            if simulation.isRunning { kill(simulation.processIdentifier, SIGKILL) }
            simulation.waitUntilExit()
        }
        var seen = Data()
        let deadline = Date().addingTimeInterval(30)
        while !String(decoding: seen, as: UTF8.self).contains("sim: ready") {
            try #require(
                Date() < deadline && simulation.isRunning, "bootfarm sim did not get ready: \(String(decoding: seen, as: UTF8.self))")
            seen.append(output.fileHandleForReading.availableData)
        }
        try body()
    }

    @Test(arguments: ["relay-lcus", "relay-numato"])
    func aBoardPoweredByASimulatedRelayBootsAndItsEnergyIsRecorded(_ board: String) throws {
        let lab = try Harness.labFile(Self.lab)
        let database = lab.deletingLastPathComponent().appendingPathComponent("results.sqlite").path
        try withSimulation(lab) {
            let result = try Harness.run([
                "boot", "--lab", lab.path, "--board", board, "--kernel", try Harness.kitFile("arm64/Image"),
                "--ramdisk", try Harness.kitFile("arm64/ramdisk-good.cpio.gz"), "--db", database, "--json",
            ])
            #expect(result.exitCode == 0, "\(result.standardError)")
            let record = try Harness.jsonObject(result.standardOutput)
            #expect(record["status"] as? String == "pass")
            let energy = try #require(record["energy_j"] as? Double)
            let average = try #require(record["avg_power_w"] as? Double)
            let peak = try #require(record["peak_power_w"] as? Double)
            // The simulated board draws 0.6 to 2.6 W (with 1 % ripple) while on.
            #expect(energy > 0)
            #expect(average > 0.3 && average < 2.7)
            #expect(peak > 2.4 && peak < 2.7, "the kernel stage draws about 2.6 W")
            let id = try #require(record["id"] as? String)
            let store = try ResultStore(path: database)
            let power = try #require(try store.power(bootID: id))
            #expect(power.trace.count > 100)
            if board == "relay-numato" {
                // Read through the device's buffer at 1 kHz: every scan kept, 1 ms apart.
                #expect(power.lostSamples == 0)
                #expect(Double(power.trace.count) > power.trace.durationSeconds * 990, "\(power.trace.count) samples")
            }
            #expect(abs(power.trace.energyJoules - energy) < 1e-9)
            let stages = power.stageEnergyJoules.values.reduce(0, +)
            #expect(abs(stages - energy) <= energy * 0.01, "per-stage energy \(stages) J sums to the total \(energy) J")
            #expect((power.stageEnergyJoules[.kernel] ?? 0) > 0)
        }
    }

    struct BadEntry: Sendable, CustomTestStringConvertible {
        var name: String
        var power: String
        var meter: String
        var words: String
        var testDescription: String { name }
    }

    static let badEntries: [BadEntry] = [
        BadEntry(
            name: "unknown relay kind", power: "{kind: x10-relay, device: /dev/null, channel: 1}", meter: "",
            words: "unknown power kind 'x10-relay'"),
        BadEntry(
            name: "channel out of range", power: "{kind: lcus, device: /dev/null, channel: 9}", meter: "",
            words: "channel 9 is out of range"),
        BadEntry(
            name: "meter path missing", power: "{kind: lcus, device: /dev/null, channel: 1}",
            meter: "    meter: {kind: hwmon, path: /nonexistent/hwmon7}\n", words: "meter path /nonexistent/hwmon7 does not exist"),
        BadEntry(
            name: "buffer on a hwmon meter", power: "{kind: lcus, device: /dev/null, channel: 1}",
            meter: "    meter: {kind: hwmon, path: /tmp, buffer: true}\n", words: "only an IIO meter has a buffer"),
        BadEntry(
            name: "buffer device without a buffer", power: "{kind: lcus, device: /dev/null, channel: 1}",
            meter: "    meter: {kind: iio, path: /tmp, buffer_device: /dev/null}\n", words: "'buffer_device' needs 'buffer: true'"),
        BadEntry(
            name: "voltage and current rate with a buffer", power: "{kind: lcus, device: /dev/null, channel: 1}",
            meter: "    meter: {kind: iio, path: /tmp, buffer: true, voltage_current_hz: 10}\n",
            words: "'voltage_current_hz' and 'buffer: true' contradict"),
        BadEntry(
            name: "buffer device missing", power: "{kind: lcus, device: /dev/null, channel: 1}",
            meter: "    meter: {kind: iio, path: /tmp, buffer: true, buffer_device: /nonexistent/iio-buffer}\n",
            words: "buffer device /nonexistent/iio-buffer of the meter at /tmp does not exist"),
    ]

    @Test(arguments: badEntries)
    func aBadHardwareEntryExits2WithFileAndLine(_ entry: BadEntry) throws {
        let lab = try Harness.labFile(
            "name: t\ntftp_root: /tmp\nboards:\n  b1:\n    type: qemu-arm64-uboot\n    power: \(entry.power)\n    console: {kind: serial, device: /dev/null}\n"
                + entry.meter)
        let result = try Harness.run(["lab", "check", lab.path])
        #expect(result.exitCode == 2)
        let first = result.standardError.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains("lab.yaml:6:") || first.contains("lab.yaml:8:"), "\(first)")
        #expect(first.contains(entry.words), "\(first)")
    }
}
