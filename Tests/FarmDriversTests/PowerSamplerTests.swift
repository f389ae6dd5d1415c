import FarmCore
import FarmDrivers
import Foundation
import Synchronization
import Testing

/// A meter whose answers a test scripts: power rises by 1 mW a read; reads can be made slow,
/// held until released, or made to fail.
private final class ScriptedMeter: PowerMeter, CustomStringConvertible {
    private let state = Mutex(State())
    private let held = DispatchSemaphore(value: 0)

    private struct State {
        var reads = 0
        var slowReads: [Int: Double] = [:]
        var heldRead: Int?
        var failing = false
    }

    struct Unplugged: Error, CustomStringConvertible {
        var description: String { "probe unplugged" }
    }

    /// Read number `index` (from 1) takes `seconds`.
    func makeRead(_ index: Int, take seconds: Double) { state.withLock { $0.slowReads[index] = seconds } }

    /// Read number `index` waits until `release()`.
    func hold(_ index: Int) { state.withLock { $0.heldRead = index } }

    func release() { held.signal() }

    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    var reads: Int { state.withLock { $0.reads } }

    func read() throws -> PowerReading {
        let count = try nextRead()
        return PowerReading(powerMicrowatts: Int64(count) * 1000, voltageMillivolts: 5000, currentMilliamps: Double(count) / 5)
    }

    func readPower() throws -> PowerReading {
        PowerReading(powerMicrowatts: Int64(try nextRead()) * 1000)
    }

    /// Counts a read, waits as scripted, and returns its number.
    private func nextRead() throws -> Int {
        let (count, delay, isHeld, failing) = state.withLock { state in
            state.reads += 1
            return (state.reads, state.slowReads[state.reads], state.heldRead == state.reads, state.failing)
        }
        if let delay { Thread.sleep(forTimeInterval: delay) }
        if isHeld { held.wait() }
        if failing { throw Unplugged() }
        return count
    }

    var description: String { "scripted" }
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

@Suite("Power sampler")
struct PowerSamplerTests {
    @Test func samplesAtItsRateOnTheBootClock() async throws {
        let meter = ScriptedMeter()
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 200)
        sampler.start()
        try await Task.sleep(for: .seconds(0.5))
        let result = sampler.stop()
        #expect(result.trace.count > 50)
        #expect(abs(Double(result.trace.count) - result.trace.durationSeconds * 200) <= 2)
        #expect(result.lostSamples <= lossAllowance(result, rateHz: 200))
        #expect(result.meterErrors == 0)
        #expect(meterWarnings(result).isEmpty)
        let times = result.trace.map(\.timeNanoseconds)
        #expect(times == times.sorted())
        let steps = zip(times.dropFirst(), times).map { Double($0 - $1) / 1e6 }
        let meanStep = steps.reduce(0, +) / Double(steps.count)
        #expect(abs(meanStep - 5) < 0.2)
        #expect(result.trace[0].voltageMillivolts == 5000)
    }

    @Test func aLongRunAtOneKilohertzKeepsEveryReadingInOrder() async throws {
        let meter = ScriptedMeter()
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 1000)
        sampler.start()
        try await Task.sleep(for: .seconds(2.5))
        let result = sampler.stop()
        // Past the recording's internal chunks of 2048 samples: each read is there once, in order.
        #expect(result.trace.count > 2048)
        #expect(result.trace.count == meter.reads || result.trace.count == meter.reads - 1)
        #expect(zip(result.trace, result.trace.dropFirst()).allSatisfy { $1.powerMicrowatts == $0.powerMicrowatts + 1000 })
        #expect(zip(result.trace, result.trace.dropFirst()).allSatisfy { $1.timeNanoseconds > $0.timeNanoseconds })
        #expect(abs(Double(result.trace.count + result.lostSamples) - result.trace.durationSeconds * 1000) <= 2)
    }

    @Test func aSlowReadLosesTheTicksItOverranWithoutShiftingTheOthers() async throws {
        let meter = ScriptedMeter()
        meter.makeRead(10, take: 0.055)
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 100)
        sampler.start()
        try await Task.sleep(for: .seconds(0.6))
        let result = sampler.stop()
        #expect((4...8).contains(result.lostSamples))
        // Every tick of the run is either sampled or counted lost: the schedule did not drift.
        let ticks = result.trace.count + result.lostSamples
        #expect(abs(Double(ticks) - result.trace.durationSeconds * 100) <= 2)
        #expect(result.warnings.contains { $0.contains("samples lost") })
    }

    @Test func aFailingMeterIsReportedRetriedAndPickedUpAgain() async throws {
        let meter = ScriptedMeter()
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 200)
        sampler.start()
        try await Task.sleep(for: .seconds(0.1))
        meter.setFailing(true)
        let failed = clock.nanoseconds
        try await Task.sleep(for: .seconds(0.25))
        meter.setFailing(false)
        let recovered = clock.nanoseconds
        try await Task.sleep(for: .seconds(0.2))
        let result = sampler.stop()
        // Retried every 100 ms while failing (one failed read, then one per 100 ms), and the
        // ticks skipped meanwhile are not lost ones.
        let retries = Double(recovered - failed) / 1e8
        #expect(Double(result.meterErrors) >= retries - 1 && Double(result.meterErrors) <= retries + 2)
        #expect(result.lostSamples <= lossAllowance(result, rateHz: 200))
        let warnings = meterWarnings(result)
        #expect(warnings.count == 2)
        #expect(warnings.first?.contains("power meter scripted stopped answering at") == true)
        #expect(warnings.first?.contains("probe unplugged") == true)
        #expect(warnings.last?.contains("answered again") == true)
        // Sampling went on after the meter came back (within one retry interval).
        #expect(result.trace.filter { $0.timeNanoseconds > recovered }.count > 5)
    }

    @Test func readingsBeforePowerOnCollapseIntoTheLastOne() async throws {
        let meter = ScriptedMeter()
        let clock = BootClock()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 200)
        sampler.start()
        try await Task.sleep(for: .seconds(0.1))
        clock.start()
        try await Task.sleep(for: .seconds(0.1))
        let result = sampler.stop()
        let trace = result.trace
        #expect(trace.filter { $0.timeNanoseconds == 0 }.count == 1)
        #expect(trace.count >= 2 && trace[0].timeNanoseconds == 0 && trace[1].timeNanoseconds > 0)
        // The kept reading is the last one before power-on: the next reading follows it directly.
        #expect(trace[1].powerMicrowatts == trace[0].powerMicrowatts + 1000)
        #expect(trace[0].powerMicrowatts > 10_000)
    }

    @Test func ratesOutsideOneToAThousandHertzAreRefused() throws {
        for rate in [0, 0.5, 1001, .infinity] {
            #expect(throws: PowerMeterError.invalidRate(rateHz: rate, allowed: 1...1000)) {
                try PowerSampler(meter: ScriptedMeter(), clock: BootClock(), rateHz: rate)
            }
        }
        #expect(throws: PowerMeterError.self) { try PowerSampler(meter: ScriptedMeter(), clock: BootClock(), rateHz: .nan) }
        #expect(PowerMeterError.invalidRate(rateHz: 5000, allowed: 1...1000).description.contains("5000"))
    }

    @Test func voltageAndCurrentAreReadAtTheirOwnRateAndPowerEverySample() async throws {
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: ScriptedMeter(), clock: clock, rateHz: 200, voltageAndCurrentRateHz: 50)
        #expect(sampler.voltageAndCurrentRateHz == 50)
        sampler.start()
        try await Task.sleep(for: .seconds(0.5))
        let result = sampler.stop()
        let trace = result.trace
        #expect(trace.count > 50)
        #expect(trace[0].voltageMillivolts == 5000)
        // Every fourth tick is a full reading; a lost tick can shift which samples those are.
        let full = trace.filter { $0.voltageMillivolts != nil }
        #expect(abs(Double(full.count) - Double(trace.count) / 4) <= 2 + Double(result.lostSamples))
        #expect(full.allSatisfy { $0.currentMilliamps != nil })
        #expect(zip(trace, trace.dropFirst()).allSatisfy { $1.powerMicrowatts == $0.powerMicrowatts + 1000 })

        let powerOnly = try PowerSampler(meter: ScriptedMeter(), clock: clock, rateHz: 200, voltageAndCurrentRateHz: 0)
        powerOnly.start()
        try await Task.sleep(for: .seconds(0.1))
        let powerTrace = powerOnly.stop().trace
        #expect(powerTrace.count > 5)
        #expect(powerTrace.allSatisfy { $0.voltageMillivolts == nil && $0.currentMilliamps == nil })

        // At or above the sampling rate: every sample.
        let everySample = try PowerSampler(meter: ScriptedMeter(), clock: clock, rateHz: 100, voltageAndCurrentRateHz: 1000)
        #expect(everySample.voltageAndCurrentRateHz == 100)
        everySample.start()
        try await Task.sleep(for: .seconds(0.1))
        #expect(everySample.stop().trace.allSatisfy { $0.voltageMillivolts == 5000 })
    }

    @Test func voltageAndCurrentRatesOutsideZeroToAThousandHertzAreRefused() throws {
        for rate in [-1, 1001, .infinity] {
            #expect(throws: PowerMeterError.invalidRate(rateHz: rate, allowed: 0...1000)) {
                try PowerSampler(meter: ScriptedMeter(), clock: BootClock(), rateHz: 100, voltageAndCurrentRateHz: rate)
            }
        }
        #expect(PowerSampler.defaultVoltageAndCurrentRateHz == 100)
    }

    @Test func theStandbyKeepsOtherMetersSampledWhileOneReadHangs() async throws {
        let thread = PowerSamplingThread(name: "test standby")
        guard thread.hasStandby else { return }
        let clock = BootClock()
        clock.start()
        let slow = ScriptedMeter()
        slow.makeRead(20, take: 0.1)
        let slowSampler = try PowerSampler(meter: slow, clock: clock, rateHz: 200, thread: thread)
        let others = try (0..<3).map { _ in try PowerSampler(meter: ScriptedMeter(), clock: clock, rateHz: 200, thread: thread) }
        slowSampler.start()
        for sampler in others { sampler.start() }
        try await Task.sleep(for: .seconds(0.5))
        let slowResult = slowSampler.stop()
        let results = others.map { $0.stop() }
        // The hung read costs its own meter about 20 ticks; the standby reads the others meanwhile.
        #expect(slowResult.lostSamples >= 15)
        for result in results {
            #expect(result.lostSamples <= lossAllowance(result, rateHz: 200))
            #expect(abs(Double(result.trace.count + result.lostSamples) - result.trace.durationSeconds * 200) <= 2)
        }
        #expect(thread.standbyReadings > 0)
    }

    @Test func oneThreadServesManySamplers() async throws {
        let thread = PowerSamplingThread(name: "test power sampling")
        let clock = BootClock()
        clock.start()
        let samplers = try (0..<8).map { _ in try PowerSampler(meter: ScriptedMeter(), clock: clock, rateHz: 200, thread: thread) }
        for sampler in samplers { sampler.start() }
        try await Task.sleep(for: .seconds(0.4))
        let results = samplers.map { $0.stop() }
        for result in results {
            #expect(result.trace.count > 50)
            // Every tick is read or counted lost, and at 200 Hz next to none are lost.
            #expect(abs(Double(result.trace.count + result.lostSamples) - result.trace.durationSeconds * 200) <= 2)
            #expect(result.lostSamples <= lossAllowance(result, rateHz: 200))
        }
        let seconds = results.map(\.trace.durationSeconds).max() ?? 0
        #expect(thread.cpuSeconds > 0)
        #expect(thread.cpuSeconds < seconds / 2)
    }

    @Test func stopReturnsAtOnceWhileAReadHangsAndAgainGivesTheSameResult() async throws {
        let meter = ScriptedMeter()
        meter.hold(3)
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 100)
        sampler.start()
        while meter.reads < 3 { try await Task.sleep(for: .milliseconds(5)) }
        let started = Date()
        let result = sampler.stop()
        #expect(Date().timeIntervalSince(started) < 0.1)
        #expect(result.trace.count == 2)
        // The held reading completes after the stop and is dropped.
        meter.release()
        try await Task.sleep(for: .milliseconds(50))
        #expect(sampler.stop().trace == result.trace)
    }
}
