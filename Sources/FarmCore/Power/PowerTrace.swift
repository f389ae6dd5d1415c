/// The power a board drew during one job: samples in time order, with the figures a boot record
/// keeps (energy, mean and peak power) and a per-stage split of the energy.
///
/// Samples are stored in columns (times, power, and voltage and current only once some sample
/// carries them), about 16 bytes a sample in memory; `packed` is the compact form for storage.
/// Energy is the trapezoidal integral of power over time: between two samples power is taken to
/// change linearly.
public struct PowerTrace: Sendable, Hashable, RandomAccessCollection {
    /// Marks a missing voltage or current in a column that other samples fill.
    static let absent = Int64.min

    /// Nanoseconds since power-on, never decreasing.
    var times: [Int64] = []
    /// Microwatts.
    var powers: [Int64] = []
    /// Microvolts; empty while no sample has a voltage, else as long as `times`.
    var voltages: [Int64] = []
    /// Microamps; empty while no sample has a current, else as long as `times`.
    var currents: [Int64] = []

    /// An empty trace.
    public init() {}

    /// A trace of `samples`, which must be in time order.
    public init<Samples: Sequence>(_ samples: Samples) throws(PowerTraceError) where Samples.Element == PowerSample {
        for sample in samples { try append(sample) }
    }

    /// Adds a sample after the others. Equal times are allowed; an earlier time throws
    /// `outOfOrder` and leaves the trace unchanged.
    public mutating func append(_ sample: PowerSample) throws(PowerTraceError) {
        if let last = times.last, sample.timeNanoseconds < last {
            throw .outOfOrder(timeNanoseconds: sample.timeNanoseconds, previousNanoseconds: last)
        }
        Self.append(sample.voltageMicrovolts, to: &voltages, filledTo: times.count)
        Self.append(sample.currentMicroamps, to: &currents, filledTo: times.count)
        times.append(sample.timeNanoseconds)
        powers.append(sample.powerMicrowatts)
    }

    /// Reserves room for `count` samples.
    public mutating func reserveCapacity(_ count: Int) {
        times.reserveCapacity(count)
        powers.reserveCapacity(count)
    }

    /// Adds every sample of `other` after these. Its first sample must not be older than the last
    /// one here; else throws `outOfOrder` and leaves the trace unchanged.
    public mutating func append(contentsOf other: PowerTrace) throws(PowerTraceError) {
        if let last = times.last, let first = other.times.first, first < last {
            throw .outOfOrder(timeNanoseconds: first, previousNanoseconds: last)
        }
        Self.append(column: other.voltages, count: other.times.count, to: &voltages, filledTo: times.count)
        Self.append(column: other.currents, count: other.times.count, to: &currents, filledTo: times.count)
        times += other.times
        powers += other.powers
    }

    /// Appends `column` (empty meaning `count` absent values) to `target`, which is empty while
    /// none of its first `filledTo` values is present.
    private static func append(column: [Int64], count: Int, to target: inout [Int64], filledTo filled: Int) {
        if column.isEmpty {
            if !target.isEmpty { target += repeatElement(absent, count: count) }
        } else {
            if target.isEmpty && filled > 0 { target = Array(repeating: absent, count: filled) }
            target += column
        }
    }

    private static func append(_ value: Int64?, to column: inout [Int64], filledTo count: Int) {
        if let value {
            if column.isEmpty && count > 0 { column = Array(repeating: absent, count: count) }
            column.append(value)
        } else if !column.isEmpty {
            column.append(absent)
        }
    }

    // MARK: Collection

    public var startIndex: Int { 0 }
    public var endIndex: Int { times.count }

    public subscript(position: Int) -> PowerSample {
        PowerSample(
            timeNanoseconds: times[position], powerMicrowatts: powers[position],
            voltageMicrovolts: voltages.isEmpty || voltages[position] == Self.absent ? nil : voltages[position],
            currentMicroamps: currents.isEmpty || currents[position] == Self.absent ? nil : currents[position])
    }

    // MARK: Figures

    /// Seconds from the first sample to the last (0 for fewer than two).
    public var durationSeconds: Double {
        guard let first = times.first, let last = times.last else { return 0 }
        return Double(last - first) / 1e9
    }

    /// Energy from the first sample to the last, in joules (trapezoidal rule; 0 for fewer than
    /// two samples).
    public var energyJoules: Double {
        guard times.count > 1 else { return 0 }
        // Sums of (Δt ns) × (p₀ + p₁ µW): twice the area in 1e-15 J.
        var doubledArea = 0.0
        for index in 1..<times.count {
            doubledArea += Double(times[index] - times[index - 1]) * (Double(powers[index - 1]) + Double(powers[index]))
        }
        return doubledArea / 2e15
    }

    /// Energy between two moments, in joules, in seconds since power-on. Power is interpolated
    /// at both ends; the parts of the window outside the trace count nothing.
    public func energyJoules(from start: Double, to end: Double) -> Double {
        guard end > start else { return 0 }
        let cumulative = doubledCumulativeArea(atSortedNanoseconds: [start * 1e9, end * 1e9])
        return (cumulative[1] - cumulative[0]) / 2e15
    }

    /// Mean power in watts: energy over duration, or the plain mean when every sample has the
    /// same time; nil for an empty trace.
    public var averageWatts: Double? {
        guard !times.isEmpty else { return nil }
        let duration = durationSeconds
        if duration > 0 { return energyJoules / duration }
        return powers.reduce(0.0) { $0 + Double($1) } / Double(powers.count) / 1e6
    }

    /// The highest sampled power in watts; nil for an empty trace.
    public var peakWatts: Double? { powers.max().map { Double($0) / 1e6 } }

    /// Energy in joules spent in each stage reached.
    ///
    /// `stageTimes` holds the second (since power-on) each stage began; a stage lasts until the
    /// next one begins, the last one until `end`. Energy sampled before the first stage began
    /// counts to it; samples after `end` count to none; stages beginning at or after `end` are
    /// left out. Power is interpolated at every boundary, so the parts add up to
    /// `energyJoules(from: -∞, to: end)` (to `energyJoules` when `end` is at or after the last
    /// sample) up to floating-point rounding.
    public func energyPerStage(stageTimes: [Stage: Double], end: Double) -> [Stage: Double] {
        let ordered = stageTimes.filter { $0.value < end }.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        guard let first = ordered.first else { return [:] }
        guard let firstTime = times.first, times.count > 1 else {
            return Dictionary(uniqueKeysWithValues: ordered.map { ($0.key, 0.0) })
        }
        var boundaries = [Swift.min(first.value * 1e9, Double(firstTime))]
        boundaries += ordered.dropFirst().map { $0.value * 1e9 }
        boundaries.append(end * 1e9)
        let cumulative = doubledCumulativeArea(atSortedNanoseconds: boundaries)
        var parts: [Stage: Double] = [:]
        for (index, entry) in ordered.enumerated() {
            parts[entry.key] = (cumulative[index + 1] - cumulative[index]) / 2e15
        }
        return parts
    }

    /// Twice the area under the interpolated power curve from the first sample to each moment
    /// in `moments` (nanoseconds, ascending), in ns × µW; moments outside the trace are clamped
    /// to it. One pass over the samples.
    private func doubledCumulativeArea(atSortedNanoseconds moments: [Double]) -> [Double] {
        guard let firstTime = times.first, let lastTime = times.last, times.count > 1 else {
            return Array(repeating: 0, count: moments.count)
        }
        var results: [Double] = []
        results.reserveCapacity(moments.count)
        var segment = 0
        var completed = 0.0
        for moment in moments {
            let time = Swift.min(Swift.max(moment, Double(firstTime)), Double(lastTime))
            while segment + 1 < times.count - 1 && Double(times[segment + 1]) <= time {
                completed += Double(times[segment + 1] - times[segment]) * (Double(powers[segment]) + Double(powers[segment + 1]))
                segment += 1
            }
            let start = Double(times[segment])
            let span = Double(times[segment + 1]) - start
            let startPower = Double(powers[segment])
            let elapsed = time - start
            var partial = 0.0
            if span > 0 && elapsed > 0 {
                let powerAtTime = startPower + (Double(powers[segment + 1]) - startPower) * elapsed / span
                partial = elapsed * (startPower + powerAtTime)
            }
            results.append(completed + partial)
        }
        return results
    }
}
