import FarmCore
import FarmDrivers
import Foundation
import Synchronization
import Testing

/// A meter whose answers a test scripts: power rises by 1 mW a read; reads can be made slow or
/// made to fail.
private final class ScriptedMeter: PowerMeter, CustomStringConvertible {
    private let state = Mutex(State())

    private struct State {
        var reads = 0
        var slowReads: [Int: Double] = [:]
        var failing = false
    }

    struct Unplugged: Error, CustomStringConvertible {
        var description: String { "probe unplugged" }
    }

    /// Read number `index` (from 1) takes `seconds`.
    func makeRead(_ index: Int, take seconds: Double) { state.withLock { $0.slowReads[index] = seconds } }

    func setFailing(_ failing: Bool) { state.withLock { $0.failing = failing } }

    var reads: Int { state.withLock { $0.reads } }

    func read() throws -> PowerReading {
        let (count, delay, failing) = state.withLock { state in
            state.reads += 1
            return (state.reads, state.slowReads[state.reads], state.failing)
        }
        if let delay { Thread.sleep(forTimeInterval: delay) }
        if failing { throw Unplugged() }
        return PowerReading(powerMicrowatts: Int64(count) * 1000, voltageMillivolts: 5000, currentMilliamps: Double(count) / 5)
    }

    var description: String { "scripted" }
}

@Suite("Power sampler")
struct PowerSamplerTests {
    @Test func samplesAtItsRateOnTheBootClock() throws {
        let meter = ScriptedMeter()
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 200)
        sampler.start()
        Thread.sleep(forTimeInterval: 0.5)
        let result = sampler.stop()
        #expect(result.trace.count > 50)
        #expect(abs(Double(result.trace.count) - result.trace.durationSeconds * 200) <= 2)
        #expect(result.lostSamples == 0)
        #expect(result.meterErrors == 0)
        #expect(result.warnings.isEmpty)
        let times = result.trace.map(\.timeNanoseconds)
        #expect(times == times.sorted())
        let steps = zip(times.dropFirst(), times).map { Double($0 - $1) / 1e6 }
        let meanStep = steps.reduce(0, +) / Double(steps.count)
        #expect(abs(meanStep - 5) < 0.2)
        #expect(result.trace[0].voltageMillivolts == 5000)
    }

    @Test func aSlowReadLosesTheTicksItOverranWithoutShiftingTheOthers() throws {
        let meter = ScriptedMeter()
        meter.makeRead(10, take: 0.055)
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 100)
        sampler.start()
        Thread.sleep(forTimeInterval: 0.6)
        let result = sampler.stop()
        #expect((4...6).contains(result.lostSamples))
        // Every tick of the run is either sampled or counted lost: the schedule did not drift.
        let ticks = result.trace.count + result.lostSamples
        #expect(abs(Double(ticks) - result.trace.durationSeconds * 100) <= 2)
        #expect(result.warnings.contains { $0.contains("samples lost") })
    }

    @Test func aFailingMeterIsReportedRetriedAndPickedUpAgain() throws {
        let meter = ScriptedMeter()
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 200)
        sampler.start()
        Thread.sleep(forTimeInterval: 0.1)
        meter.setFailing(true)
        Thread.sleep(forTimeInterval: 0.25)
        meter.setFailing(false)
        let recovered = clock.nanoseconds
        Thread.sleep(forTimeInterval: 0.2)
        let result = sampler.stop()
        // Retried every 100 ms while failing, so about three failed reads, none of them lost ticks.
        #expect((2...4).contains(result.meterErrors))
        #expect(result.lostSamples == 0)
        #expect(result.warnings.count == 2)
        #expect(result.warnings.first?.contains("power meter scripted stopped answering at") == true)
        #expect(result.warnings.first?.contains("probe unplugged") == true)
        #expect(result.warnings.last?.contains("answered again") == true)
        // Sampling went on after the meter came back (within one retry interval).
        #expect(result.trace.filter { $0.timeNanoseconds > recovered }.count > 10)
    }

    @Test func readingsBeforePowerOnCollapseIntoTheLastOne() throws {
        let meter = ScriptedMeter()
        let clock = BootClock()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 200)
        sampler.start()
        Thread.sleep(forTimeInterval: 0.1)
        clock.start()
        Thread.sleep(forTimeInterval: 0.1)
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

    @Test func oneThreadServesManySamplers() throws {
        let thread = PowerSamplingThread(name: "test power sampling")
        let clock = BootClock()
        clock.start()
        let samplers = try (0..<8).map { _ in try PowerSampler(meter: ScriptedMeter(), clock: clock, rateHz: 500, thread: thread) }
        for sampler in samplers { sampler.start() }
        Thread.sleep(forTimeInterval: 0.4)
        let results = samplers.map { $0.stop() }
        for result in results {
            #expect((180...220).contains(result.trace.count))
            #expect(result.lostSamples == 0)
        }
        #expect(thread.cpuSeconds > 0)
        #expect(thread.cpuSeconds < 0.4)
    }

    @Test func stopReturnsAtOnceWhileAReadHangsAndAgainGivesTheSameResult() throws {
        let meter = ScriptedMeter()
        meter.makeRead(3, take: 1.5)
        let clock = BootClock()
        clock.start()
        let sampler = try PowerSampler(meter: meter, clock: clock, rateHz: 100)
        sampler.start()
        while meter.reads < 3 { Thread.sleep(forTimeInterval: 0.005) }
        let started = Date()
        let result = sampler.stop()
        #expect(Date().timeIntervalSince(started) < 0.1)
        #expect(result.trace.count == 2)
        #expect(sampler.stop().trace == result.trace)
    }
}
