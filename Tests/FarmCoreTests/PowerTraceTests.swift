import FarmCore
import Testing

@Suite("Power trace")
struct PowerTraceTests {
    /// 1 W at 0 s, 3 W at 1 s, 3 W at 3 s: 2 J + 6 J.
    func knownTrace() throws -> PowerTrace {
        try PowerTrace([
            PowerSample(timeNanoseconds: 0, powerMicrowatts: 1_000_000),
            PowerSample(timeNanoseconds: 1_000_000_000, powerMicrowatts: 3_000_000),
            PowerSample(timeNanoseconds: 3_000_000_000, powerMicrowatts: 3_000_000),
        ])
    }

    /// A meter read at 100 Hz with up to 100 µs of jitter and 1 % of ripple around 2.4 W, stepping
    /// between levels now and then, with a 5 V supply.
    func sampledTrace(count: Int, withVoltageAndCurrent: Bool) throws -> PowerTrace {
        var generator = SplitMix(seed: 7)
        var trace = PowerTrace()
        var level = 2_400_000.0
        for index in 0..<count {
            if index % 250 == 0 { level = [600_000.0, 1_400_000, 2_600_000, 1_800_000][index / 250 % 4] }
            let time = Int64(index) * 10_000_000 + Int64(generator.next() % 100_000)
            let power = Int64(level * (1 + (Double(generator.next() % 2001) - 1000) / 100_000))
            let millivolts = 5000 - Int64(generator.next() % 20)
            try trace.append(
                PowerSample(
                    timeNanoseconds: time, powerMicrowatts: power,
                    voltageMicrovolts: withVoltageAndCurrent ? millivolts * 1000 : nil,
                    currentMicroamps: withVoltageAndCurrent ? power / millivolts * 1000 : nil))
        }
        return trace
    }

    @Test func trapezoidEnergyOfAKnownTrace() throws {
        let trace = try knownTrace()
        #expect(trace.energyJoules == 8)
        #expect(trace.durationSeconds == 3)
        #expect(trace.averageWatts == 8.0 / 3)
        #expect(trace.peakWatts == 3)
        #expect(trace.count == 3)
        #expect(trace[1].watts == 3)
    }

    @Test func energyBetweenTwoMomentsInterpolatesPowerAtBothEnds() throws {
        let trace = try knownTrace()
        // 2 W at 0.5 s: 0.5 s × 2.5 W, then 1 s × 3 W.
        #expect(trace.energyJoules(from: 0.5, to: 2) == 4.25)
        #expect(trace.energyJoules(from: -5, to: 50) == 8)
        #expect(trace.energyJoules(from: 2, to: 1) == 0)
    }

    @Test func energyPerStageSplitsAtStageBoundaries() throws {
        let trace = try knownTrace()
        let parts = trace.energyPerStage(stageTimes: [.power: 0, .kernel: 0.5, .prompt: 2, .tests: 4], end: 3)
        #expect(parts == [.power: 0.75, .kernel: 4.25, .prompt: 3])
        #expect(parts.values.reduce(0, +) == trace.energyJoules)
    }

    @Test func energyPerStageSumsToTheTotalOnASampledTrace() throws {
        let trace = try sampledTrace(count: 2000, withVoltageAndCurrent: false)
        let stageTimes: [Stage: Double] = [.power: 0.0123, .bootloader: 1.3337, .kernel: 4.2345, .userspace: 9.99, .prompt: 15.5]
        let parts = trace.energyPerStage(stageTimes: stageTimes, end: 25)
        #expect(Set(parts.keys) == Set(stageTimes.keys))
        let sum = Stage.allCases.compactMap { parts[$0] }.reduce(0, +)
        #expect(abs(sum - trace.energyJoules) <= 1e-12 * trace.energyJoules)
        // Ending early: the parts add up to the energy up to the end, later stages are left out.
        let early = trace.energyPerStage(stageTimes: stageTimes, end: 7.5)
        #expect(early[.userspace] == nil && early[.prompt] == nil)
        let earlySum = Stage.allCases.compactMap { early[$0] }.reduce(0, +)
        let expected = trace.energyJoules(from: 0, to: 7.5)
        #expect(abs(earlySum - expected) <= 1e-12 * expected)
        // Each part matches the energy between its boundaries.
        let kernel = try #require(parts[.kernel])
        let between = trace.energyJoules(from: 4.2345, to: 9.99)
        #expect(abs(kernel - between) <= 1e-12 * between)
    }

    @Test func energyBeforeTheFirstStageCountsToIt() throws {
        let trace = try knownTrace()
        let parts = trace.energyPerStage(stageTimes: [.bootloader: 1], end: 3)
        #expect(parts == [.bootloader: 8])
    }

    @Test func emptyAndSingleSampleTraces() throws {
        let empty = PowerTrace()
        #expect(empty.energyJoules == 0)
        #expect(empty.averageWatts == nil)
        #expect(empty.peakWatts == nil)
        #expect(empty.energyPerStage(stageTimes: [.power: 0], end: 1) == [.power: 0])
        let single = try PowerTrace([PowerSample(timeNanoseconds: 5, powerMicrowatts: 1_500_000)])
        #expect(single.energyJoules == 0)
        #expect(single.averageWatts == 1.5)
        #expect(single.peakWatts == 1.5)
    }

    @Test func samplesMustComeInTimeOrder() throws {
        var trace = try knownTrace()
        #expect(throws: PowerTraceError.outOfOrder(timeNanoseconds: 10, previousNanoseconds: 3_000_000_000)) {
            try trace.append(PowerSample(timeNanoseconds: 10, powerMicrowatts: 1))
        }
        #expect(trace.count == 3)
        try trace.append(PowerSample(timeNanoseconds: 3_000_000_000, powerMicrowatts: 1))
        #expect(trace.count == 4)
    }

    @Test func tracesJoinInOrderKeepingVoltageAndCurrentWhereTheyWere() throws {
        let first = try PowerTrace([
            PowerSample(timeNanoseconds: 1, powerMicrowatts: 10),
            PowerSample(timeNanoseconds: 2, powerMicrowatts: 20),
        ])
        let second = try PowerTrace([
            PowerSample(timeNanoseconds: 2, powerMicrowatts: 30, voltageMicrovolts: 5_000_000, currentMicroamps: nil),
            PowerSample(timeNanoseconds: 3, powerMicrowatts: 40),
        ])
        var joined = first
        try joined.append(contentsOf: second)
        try joined.append(contentsOf: PowerTrace([PowerSample(timeNanoseconds: 4, powerMicrowatts: 50)]))
        #expect(Array(joined) == Array(first) + Array(second) + [PowerSample(timeNanoseconds: 4, powerMicrowatts: 50)])
        #expect(joined[2].voltageMicrovolts == 5_000_000 && joined[3].voltageMicrovolts == nil && joined[4].voltageMicrovolts == nil)
        #expect(throws: PowerTraceError.outOfOrder(timeNanoseconds: 1, previousNanoseconds: 4)) { try joined.append(contentsOf: first) }
        #expect(joined.count == 5)
    }

    @Test func voltageAndCurrentAreKeptPerSampleInMicroUnits() throws {
        var trace = PowerTrace()
        try trace.append(PowerSample(timeNanoseconds: 1, powerMicrowatts: 10))
        try trace.append(PowerSample(timeNanoseconds: 2, powerMicrowatts: 20, voltageMillivolts: 5003.75, currentMilliamps: nil))
        try trace.append(PowerSample(timeNanoseconds: 3, powerMicrowatts: 30, voltageMillivolts: nil, currentMilliamps: -12.3))
        #expect(trace[0].voltageMicrovolts == nil && trace[0].currentMicroamps == nil)
        #expect(trace[1].voltageMicrovolts == 5_003_750 && trace[1].voltageMillivolts == 5003.75)
        #expect(trace[1].currentMicroamps == nil)
        #expect(trace[2].currentMicroamps == -12_300 && trace[2].currentMilliamps == -12.3)
    }

    @Test func packingRoundTrips() throws {
        let traces = [
            PowerTrace(),
            try knownTrace(),
            try sampledTrace(count: 3000, withVoltageAndCurrent: false),
            try sampledTrace(count: 3000, withVoltageAndCurrent: true),
            try PowerTrace([
                PowerSample(timeNanoseconds: 0, powerMicrowatts: .max, voltageMicrovolts: 1, currentMicroamps: nil),
                PowerSample(timeNanoseconds: 0, powerMicrowatts: -5, voltageMicrovolts: nil, currentMicroamps: .min + 1),
                PowerSample(timeNanoseconds: .max, powerMicrowatts: .min, voltageMicrovolts: .max, currentMicroamps: -7),
            ]),
        ]
        for trace in traces {
            let packed = trace.packed
            let unpacked = try PowerTrace(packed: packed)
            #expect(unpacked == trace)
            #expect(Array(unpacked) == Array(trace))
        }
    }

    @Test func packingIsCompact() throws {
        let plain = try sampledTrace(count: 10_000, withVoltageAndCurrent: false)
        let full = try sampledTrace(count: 10_000, withVoltageAndCurrent: true)
        // An INA226 behind hwmon reports power in steps of 25 × its current step.
        let stepped = try PowerTrace(
            plain.map { PowerSample(timeNanoseconds: $0.timeNanoseconds, powerMicrowatts: $0.powerMicrowatts / 25_000 * 25_000) })
        let plainBytes = Double(plain.packed.count) / Double(plain.count)
        let fullBytes = Double(full.packed.count) / Double(full.count)
        let steppedBytes = Double(stepped.packed.count) / Double(stepped.count)
        print(
            "packed power trace: \(plainBytes) bytes/sample (power), \(fullBytes) (power, voltage, current), \(steppedBytes) (25 mW steps)")
        #expect(plainBytes < 7)
        #expect(fullBytes < 11)
        #expect(steppedBytes < 5)
    }

    @Test func corruptPackingThrowsInsteadOfCrashing() throws {
        let packed = try sampledTrace(count: 200, withVoltageAndCurrent: true).packed
        for length in 0..<packed.count {
            #expect(throws: PowerTraceError.self) { try PowerTrace(packed: Array(packed[0..<length])) }
        }
        #expect(throws: PowerTraceError.self) { try PowerTrace(packed: packed + [0]) }
        var wrongMagic = packed
        wrongMagic[0] = 0
        #expect(throws: PowerTraceError.self) { try PowerTrace(packed: wrongMagic) }
        var generator = SplitMix(seed: 3)
        for _ in 0..<2000 {
            var mangled = packed
            mangled[4 + Int(generator.next() % UInt64(packed.count - 4))] = UInt8(truncatingIfNeeded: generator.next())
            _ = try? PowerTrace(packed: mangled)
        }
    }
}

/// A small deterministic generator for test data.
private struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
