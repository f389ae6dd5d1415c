/// A compact binary form of a trace for storage: about 5–7 bytes a sample for a meter read at a
/// steady rate, against 16 in memory.
///
/// Layout (version 1), all integers LEB128 varints, signed ones zigzag-encoded:
/// - `"PT"`, version byte `1`, flags byte (bit 0: voltage column, bit 1: current column, bit 2:
///   the voltage column has gaps, bit 3: the current column has gaps);
/// - sample count; a divisor for each present column (power, then voltage, then current): the
///   greatest common divisor of its values, since many meters report multiples of a fixed step;
/// - times: the first, then the first difference, then differences of differences, which stay
///   small while the sampler keeps its rate;
/// - power: differences of value ÷ divisor;
/// - voltage, current: where the column has gaps, a bitmap of the samples that have a value
///   (least significant bit first); then differences of value ÷ divisor for those samples.
///
/// Arithmetic wraps, so any trace round-trips exactly.
extension PowerTrace {
    private static let magic: [UInt8] = [0x50, 0x54]
    private static let version: UInt8 = 1

    /// The trace in its compact binary form.
    public var packed: [UInt8] {
        var writer = VarintWriter()
        writer.bytes.reserveCapacity(16 + times.count * 7)
        writer.bytes += Self.magic
        writer.bytes.append(Self.version)
        let voltageGaps = voltages.contains(Self.absent)
        let currentGaps = currents.contains(Self.absent)
        var flags: UInt8 = voltages.isEmpty ? 0 : 1
        if !currents.isEmpty { flags |= 2 }
        if voltageGaps { flags |= 4 }
        if currentGaps { flags |= 8 }
        writer.bytes.append(flags)
        writer.write(UInt64(times.count))
        let powerDivisor = Self.divisor(of: powers)
        let voltageDivisor = Self.divisor(of: voltages)
        let currentDivisor = Self.divisor(of: currents)
        writer.write(UInt64(powerDivisor))
        if !voltages.isEmpty { writer.write(UInt64(voltageDivisor)) }
        if !currents.isEmpty { writer.write(UInt64(currentDivisor)) }

        var previousTime: Int64 = 0
        var previousStep: Int64 = 0
        for (index, time) in times.enumerated() {
            let step = time &- previousTime
            writer.writeSigned(index < 2 ? step : step &- previousStep)
            previousStep = index == 0 ? 0 : step
            previousTime = time
        }
        var previousPower: Int64 = 0
        for power in powers {
            let quotient = Self.divide(power, by: powerDivisor)
            writer.writeSigned(quotient &- previousPower)
            previousPower = quotient
        }
        for (column, divisor, hasGaps) in [(voltages, voltageDivisor, voltageGaps), (currents, currentDivisor, currentGaps)]
        where !column.isEmpty {
            if hasGaps {
                var bitmap = [UInt8](repeating: 0, count: (column.count + 7) / 8)
                for (index, value) in column.enumerated() where value != Self.absent {
                    bitmap[index / 8] |= 1 << UInt8(index % 8)
                }
                writer.bytes += bitmap
            }
            var previous: Int64 = 0
            for value in column where value != Self.absent {
                let quotient = Self.divide(value, by: divisor)
                writer.writeSigned(quotient &- previous)
                previous = quotient
            }
        }
        return writer.bytes
    }

    /// Decodes `packed`; throws `corruptPacking` for bytes that are not a whole trace.
    public init(packed: [UInt8]) throws(PowerTraceError) {
        var reader = VarintReader(bytes: packed)
        guard packed.count >= 4, Array(packed[0..<2]) == Self.magic else {
            throw .corruptPacking(offset: 0, reason: "not a packed power trace")
        }
        guard packed[2] == Self.version else {
            throw .corruptPacking(offset: 2, reason: "unsupported version \(packed[2])")
        }
        let flags = packed[3]
        guard flags & ~15 == 0 else { throw .corruptPacking(offset: 3, reason: "unknown flags \(flags)") }
        reader.offset = 4
        let declared = try reader.read()
        // Every sample takes at least two bytes, which bounds a corrupt count before allocating.
        guard declared <= UInt64(packed.count / 2) else {
            throw .corruptPacking(offset: 4, reason: "sample count \(declared) exceeds the data")
        }
        let count = Int(declared)
        let powerDivisor = try reader.readDivisor()
        let voltageDivisor = flags & 1 != 0 ? try reader.readDivisor() : 0
        let currentDivisor = flags & 2 != 0 ? try reader.readDivisor() : 0

        self.init()
        times.reserveCapacity(count)
        powers.reserveCapacity(count)
        var previousTime: Int64 = 0
        var previousStep: Int64 = 0
        for index in 0..<count {
            let offset = reader.offset
            let encoded = try reader.readSigned()
            let step = index < 2 ? encoded : previousStep &+ encoded
            let time = previousTime &+ step
            if index > 0 && time < previousTime {
                throw .corruptPacking(offset: offset, reason: "time goes backwards")
            }
            times.append(time)
            previousStep = index == 0 ? 0 : step
            previousTime = time
        }
        var previousPower: Int64 = 0
        for _ in 0..<count {
            previousPower = previousPower &+ (try reader.readSigned())
            powers.append(previousPower &* powerDivisor)
        }
        if flags & 1 != 0 {
            voltages = try Self.readColumn(&reader, count: count, divisor: voltageDivisor, hasGaps: flags & 4 != 0)
        }
        if flags & 2 != 0 {
            currents = try Self.readColumn(&reader, count: count, divisor: currentDivisor, hasGaps: flags & 8 != 0)
        }
        guard reader.offset == packed.count else {
            throw .corruptPacking(offset: reader.offset, reason: "\(packed.count - reader.offset) bytes after the trace")
        }
    }

    private static func readColumn(
        _ reader: inout VarintReader, count: Int, divisor: Int64, hasGaps: Bool
    ) throws(PowerTraceError) -> [Int64] {
        var present = [Bool](repeating: true, count: count)
        if hasGaps {
            let bitmap = try reader.readBytes((count + 7) / 8)
            for index in 0..<count { present[index] = bitmap[index / 8] & (1 << UInt8(index % 8)) != 0 }
        }
        var column: [Int64] = []
        column.reserveCapacity(count)
        var previous: Int64 = 0
        for index in 0..<count {
            if present[index] {
                previous = previous &+ (try reader.readSigned())
                column.append(previous &* divisor)
            } else {
                column.append(absent)
            }
        }
        return column
    }

    /// The greatest common divisor of the present values (1 when all are zero or absent).
    private static func divisor(of column: [Int64]) -> Int64 {
        var result: UInt64 = 0
        for value in column where value != absent {
            var a = result
            var b = value.magnitude
            while b != 0 { (a, b) = (b, a % b) }
            result = a
            if result == 1 { break }
        }
        // A divisor above Int64.max can only come from Int64.min itself; keep such values whole.
        return result == 0 || result > UInt64(Int64.max) ? 1 : Int64(result)
    }

    private static func divide(_ value: Int64, by divisor: Int64) -> Int64 {
        divisor == 1 ? value : value / divisor
    }
}

/// Appends LEB128 varints.
private struct VarintWriter {
    var bytes: [UInt8] = []

    mutating func write(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func writeSigned(_ value: Int64) { write(Self.zigzag(value)) }

    static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }
}

/// Reads LEB128 varints, throwing at the offset where the data ends or overflows.
private struct VarintReader {
    let bytes: [UInt8]
    var offset = 0

    mutating func read() throws(PowerTraceError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < bytes.count else { throw .corruptPacking(offset: start, reason: "data ends inside a number") }
            let byte = bytes[offset]
            offset += 1
            if shift == 63 && byte > 1 { throw .corruptPacking(offset: start, reason: "number too large") }
            value |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    mutating func readSigned() throws(PowerTraceError) -> Int64 { Self.unzigzag(try read()) }

    mutating func readBytes(_ count: Int) throws(PowerTraceError) -> [UInt8] {
        guard bytes.count - offset >= count else { throw .corruptPacking(offset: offset, reason: "data ends inside a bitmap") }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func readDivisor() throws(PowerTraceError) -> Int64 {
        let start = offset
        let value = try read()
        guard value >= 1 && value <= UInt64(Int64.max) else {
            throw .corruptPacking(offset: start, reason: "divisor \(value) out of range")
        }
        return Int64(value)
    }

    static func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1))) }
}
