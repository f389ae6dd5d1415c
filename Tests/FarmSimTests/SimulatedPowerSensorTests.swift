import FarmCore
import FarmDrivers
import FarmSim
import Foundation
import Testing

/// A folder for sensor files, on /dev/shm where there is one: replacing a file there costs tens
/// of microseconds against most of a millisecond on ext4.
private final class SensorFolder {
    let path: String

    init() throws {
        let base = FileManager.default.isWritableFile(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        path = (base as NSString).appendingPathComponent("bootfarm-sensor-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Ticks a timing test lets the machine lose. This virtual machine stalls every thread now and
/// then, real-time ones included, by 5–15 ms whatever the process does (a bare C loop at
/// `SCHED_FIFO` sees it too), which at 200 Hz costs one to three ticks; more than that would be
/// the sampler's own doing.
private func lossAllowance(_ result: PowerSamplingResult, rateHz: Double) -> Int {
    3 + Int(result.trace.durationSeconds * rateHz / 100)
}

/// The warnings other than the one about lost samples.
private func meterWarnings(_ result: PowerSamplingResult) -> [String] {
    result.warnings.filter { !$0.contains("samples lost") }
}

@Suite("Simulated sysfs power sensor")
struct SimulatedSysfsPowerSensorTests {
    let model = BoardPowerModel()

    /// Every value in microwatts a hwmon sensor can show for `stage`: the level with each step
    /// of its ripple.
    func possibleMicrowatts(_ stage: Stage?) -> Set<Int64> {
        Set((0..<8).map { Int64((model.watts(at: stage, sample: $0) * 1e6).rounded()) })
    }

    func meter(for sensor: SimulatedPowerSensor) throws -> any PowerMeter {
        switch sensor.interface {
        case .hwmon: try HwmonPowerMeter(directory: sensor.directory)
        case .iio: try IIOPowerMeter(directory: sensor.directory)
        }
    }

    @Test func hwmonFolderLooksLikeAnINA226AndFollowsTheStage() async throws {
        let folder = try SensorFolder()
        let sensor = try SimulatedPowerSensor(interface: .hwmon, in: folder.path)
        defer { sensor.stop() }
        #expect(sensor.directory == folder.path + "/hwmon0")
        for name in ["name", "power1_input", "curr1_input", "in1_input"] {
            #expect(FileManager.default.fileExists(atPath: sensor.directory + "/" + name))
        }
        let meter = try HwmonPowerMeter(directory: sensor.directory)
        #expect(meter.chipName == "ina226")
        #expect(try meter.read() == PowerReading(powerMicrowatts: 0, voltageMillivolts: 5000, currentMilliamps: 0))
        sensor.setStage(.kernel)
        sensor.start()
        try await Task.sleep(for: .seconds(0.02))
        let reading = try meter.read()
        #expect(possibleMicrowatts(.kernel).contains(reading.powerMicrowatts))
        #expect(reading.voltageMillivolts == 5000)
        // Power and current are two files read one after the other while the sensor updates
        // them, so they may come from neighbouring updates: they agree within the ripple.
        let expectedMilliamps = reading.watts / 5 * 1000
        #expect(abs((reading.currentMilliamps ?? 0) - expectedMilliamps) <= expectedMilliamps * BoardPowerModel().ripple + 0.5)
    }

    @Test func iioFolderReadsBackThroughTheIIOMeterWithItsScales() async throws {
        let folder = try SensorFolder()
        let sensor = try SimulatedPowerSensor(interface: .iio, in: folder.path)
        defer { sensor.stop() }
        #expect(sensor.directory == folder.path + "/iio:device0")
        let scale = try String(contentsOfFile: sensor.directory + "/in_voltage_scale", encoding: .utf8)
        #expect(scale == "1.250000000\n")
        let meter = try IIOPowerMeter(directory: sensor.directory)
        #expect(meter.deviceName == "ina226")
        sensor.setStage(.bootloader)
        sensor.start()
        try await Task.sleep(for: .seconds(0.02))
        let reading = try meter.read()
        // Raw power is in 0.5 mW steps.
        #expect(possibleMicrowatts(.bootloader).contains { abs($0 - reading.powerMicrowatts) <= 250 })
        #expect(reading.voltageMillivolts == 5000)
        // As for hwmon: the two files may come from neighbouring updates.
        let expectedMilliamps = reading.watts / 5 * 1000
        #expect(abs((reading.currentMilliamps ?? 0) - expectedMilliamps) <= expectedMilliamps * BoardPowerModel().ripple + 0.125)
    }

    @Test func aConcurrentReaderNeverSeesATornValue() throws {
        let folder = try SensorFolder()
        let sensor = try SimulatedPowerSensor(interface: .hwmon, in: folder.path, updateRateHz: 1000)
        defer { sensor.stop() }
        sensor.setStage(.kernel)
        sensor.start()
        let meter = try HwmonPowerMeter(directory: sensor.directory, readsVoltageAndCurrent: false)
        // Off (before the first update), then either stage.
        let allowed = possibleMicrowatts(.kernel).union(possibleMicrowatts(.bootloader)).union([0])
        var seen = Set<Int64>()
        var torn = 0
        var firstTorn: Int64?
        for index in 0..<20_000 {
            // Stages flip under the reader so consecutive values differ in many digits.
            if index % 50 == 0 { sensor.setStage(index % 100 == 0 ? .bootloader : .kernel) }
            let microwatts = try meter.read().powerMicrowatts
            seen.insert(microwatts)
            if !allowed.contains(microwatts) {
                torn += 1
                firstTorn = firstTorn ?? microwatts
            }
        }
        #expect(torn == 0, "first value not written by the sensor: \(firstTorn ?? 0) µW")
        #expect(seen.count > 8)
        #expect(sensor.updates > 10)
    }

    @Test func anUpdateEmptiesTheFileItReplaces() throws {
        let folder = try SensorFolder()
        // One update a second: only the one `start()` writes happens during the test.
        let sensor = try SimulatedPowerSensor(interface: .hwmon, in: folder.path, updateRateHz: 1)
        defer { sensor.stop() }
        let path = sensor.directory + "/power1_input"
        let held = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? held.close() }
        #expect(try held.readToEnd() == Data("0\n".utf8))
        sensor.setStage(.kernel)
        sensor.start()
        try held.seek(toOffset: 0)
        #expect(try held.readToEnd() ?? Data() == Data())
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        #expect(possibleMicrowatts(.kernel).contains(Int64(text.dropLast()) ?? -1))
    }

    @Test func sensorsShareOneWriterAndStopWritingWhenStopped() async throws {
        let folder = try SensorFolder()
        let sensors = try (0..<4).map {
            try SimulatedPowerSensor(interface: .hwmon, in: folder.path, directoryName: "hwmon\($0)", updateRateHz: 200)
        }
        let cpuBefore = SimulatedPowerSensor.writerCPUSeconds
        for sensor in sensors {
            sensor.setStage(.bootloader)
            sensor.start()
        }
        try await Task.sleep(for: .seconds(0.2))
        for sensor in sensors { sensor.stop() }
        let counts = sensors.map(\.updates)
        #expect(counts.allSatisfy { $0 >= 10 })
        try await Task.sleep(for: .seconds(0.05))
        #expect(sensors.map(\.updates) == counts)
        #expect(SimulatedPowerSensor.writerCPUSeconds > cpuBefore)
        let meter = try HwmonPowerMeter(directory: sensors[3].directory)
        #expect(possibleMicrowatts(.bootloader).contains(try meter.read().powerMicrowatts))
    }

    @Test func aSensorThatStopsAnsweringFailsReadsUntilItResumes() async throws {
        let folder = try SensorFolder()
        let sensor = try SimulatedPowerSensor(interface: .hwmon, in: folder.path)
        defer { sensor.stop() }
        sensor.setStage(.userspace)
        sensor.start()
        let meter = try HwmonPowerMeter(directory: sensor.directory)
        _ = try meter.read()
        sensor.stopAnswering()
        try await Task.sleep(for: .seconds(0.01))
        #expect(throws: PowerMeterError.self) { try meter.read() }
        do {
            _ = try meter.read()
        } catch {
            #expect("\(error)".contains(sensor.directory))
        }
        sensor.resumeAnswering()
        #expect(possibleMicrowatts(.userspace).contains(try meter.read().powerMicrowatts))
    }

    /// Drives a boot through its stages while a sampler reads the sensor at 200 Hz; the measured
    /// energy must match the model's integral over the same window within 1 %.
    @Test(arguments: [SimulatedPowerSensor.Interface.hwmon, .iio])
    func samplerAt200HzMeasuresTheModelsEnergyWithinOnePercent(_ interface: SimulatedPowerSensor.Interface) async throws {
        let folder = try SensorFolder()
        let sensor = try SimulatedPowerSensor(interface: interface, in: folder.path)
        defer { sensor.stop() }
        sensor.start()
        let clock = BootClock()
        let sampler = try PowerSampler(meter: try meter(for: sensor), clock: clock, rateHz: 200)
        sampler.start()
        try await Task.sleep(for: .seconds(0.05))

        let schedule: [(stage: Stage, seconds: Double)] = [(.power, 0.15), (.bootloader, 0.25), (.kernel, 0.35), (.userspace, 0.25)]
        var changes: [(timeNanoseconds: Int64, stage: Stage?)] = [(0, nil)]
        clock.start()
        for (stage, seconds) in schedule {
            sensor.setStage(stage)
            changes.append((clock.nanoseconds, stage))
            try await Task.sleep(for: .seconds(seconds))
        }
        let result = sampler.stop()

        let trace = result.trace
        let first = try #require(trace.first).timeNanoseconds
        let last = try #require(trace.last).timeNanoseconds
        var expected = 0.0
        for (index, change) in changes.enumerated() {
            let end = index + 1 < changes.count ? changes[index + 1].timeNanoseconds : Int64.max
            let overlap = min(end, last) - max(change.timeNanoseconds, first)
            if overlap > 0 { expected += model.watts(at: change.stage) * Double(overlap) / 1e9 }
        }
        let measured = trace.energyJoules
        let error = (measured - expected) / expected
        print("\(interface) sensor at 200 Hz: measured \(measured) J, model \(expected) J, error \(error * 100) %")
        #expect(abs(error) < 0.01, "measured \(measured) J, model \(expected) J")
        #expect(result.lostSamples <= lossAllowance(result, rateHz: 200))
        #expect(result.meterErrors == 0)
        #expect(meterWarnings(result).isEmpty)
        #expect(abs(Double(trace.count + result.lostSamples) - trace.durationSeconds * 200) <= 4)

        // Per stage: the split adds up to the whole, and each stage is near its level × time.
        let stageTimes = Dictionary(
            uniqueKeysWithValues: changes.dropFirst().map { ($0.stage ?? .power, Double($0.timeNanoseconds) / 1e9) })
        let parts = trace.energyPerStage(stageTimes: stageTimes, end: Double(last) / 1e9)
        #expect(abs(parts.values.reduce(0, +) - measured) <= 1e-9 * measured)
        let kernelStart = try #require(stageTimes[.kernel])
        let kernelEnd = try #require(stageTimes[.userspace])
        let kernelModel = model.kernelWatts * (kernelEnd - kernelStart)
        #expect(abs((parts[.kernel] ?? 0) - kernelModel) / kernelModel < 0.03)
    }

    @Test func aMeterRemovedMidRunGivesAWarningNotACrash() async throws {
        let folder = try SensorFolder()
        let sensor = try SimulatedPowerSensor(interface: .hwmon, in: folder.path)
        defer { sensor.stop() }
        sensor.setStage(.kernel)
        sensor.start()
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: try HwmonPowerMeter(directory: sensor.directory), clock: clock, rateHz: 200)
        sampler.start()
        try await Task.sleep(for: .seconds(0.2))
        sensor.stopAnswering()
        let removed = clock.nanoseconds
        try await Task.sleep(for: .seconds(0.35))
        let result = sampler.stop()
        #expect(result.meterErrors >= 2)
        #expect(meterWarnings(result).count == 1)
        let warning = try #require(meterWarnings(result).first)
        #expect(warning.contains("stopped answering"))
        #expect(warning.contains(sensor.directory))
        // Samples up to the removal (give or take one period), none after it.
        let last = try #require(result.trace.last)
        #expect(last.timeNanoseconds <= removed + 5_000_000)
        #expect(abs(Double(result.trace.count + result.lostSamples) - Double(removed) / 1e9 * 200) <= 3)
        #expect(result.lostSamples <= lossAllowance(result, rateHz: 200))
    }
}
