import CFarmShims
import Foundation

/// Everything a console received, byte for byte, split into lines that each carry the time their
/// first byte arrived (nanoseconds since power-on).
///
/// Bytes are stored as received: invalid UTF-8, NUL, CR and escape sequences survive. A line ends
/// at `\n`; the last line may still be open (a prompt is never followed by a newline).
public struct ConsoleTranscript: Sendable {
    /// The raw bytes.
    public private(set) var bytes: [UInt8] = []
    /// Offset of each line's first byte in `bytes`.
    public private(set) var lineStarts: [Int] = []
    /// Arrival time of each line's first byte, nanoseconds since power-on.
    public private(set) var lineTimes: [Int64] = []
    /// True while the last line has not seen its `\n`.
    public private(set) var lastLineOpen = false

    public init() {}

    /// Rebuilds a transcript from stored bytes and line times (one time per line start).
    public init(bytes: [UInt8], lineTimes: [Int64]) {
        append(bytes, at: 0)
        for index in lineTimes.indices where index < self.lineTimes.count {
            self.lineTimes[index] = lineTimes[index]
        }
    }

    /// Number of lines, counting an open last line.
    public var lineCount: Int { lineStarts.count }

    /// Reserves room for `byteCount` bytes and about one line per 64 of them.
    public mutating func reserveCapacity(_ byteCount: Int) {
        bytes.reserveCapacity(byteCount)
        lineStarts.reserveCapacity(byteCount / 64)
        lineTimes.reserveCapacity(byteCount / 64)
        // Large logs: huge pages spare the page faults of filling the buffer 4 KiB at a time.
        if byteCount >= 4 << 20 {
            let capacity = bytes.capacity
            bytes.withUnsafeMutableBytes { buffer in
                if let base = buffer.baseAddress { farm_advise_huge_pages(base, capacity) }
            }
        }
    }

    /// Appends bytes that arrived at `timeNanoseconds`.
    public mutating func append<C: Collection>(_ chunk: C, at timeNanoseconds: Int64) where C.Element == UInt8 {
        guard !chunk.isEmpty else { return }
        let start = bytes.count
        bytes.append(contentsOf: chunk)
        if !lastLineOpen {
            lineStarts.append(start)
            lineTimes.append(timeNanoseconds)
        }
        // Newlines are found 16 bytes at a time, a batch of offsets per call.
        var offsets = [Int](repeating: 0, count: 1024)
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            let end = buffer.count
            var offset = start
            while offset < end {
                let found = offsets.withUnsafeMutableBufferPointer { out in
                    farm_find_newlines(base + offset, end - offset, out.baseAddress, out.count)
                }
                for index in 0..<found {
                    let newline = offset + offsets[index]
                    if newline + 1 < end {
                        lineStarts.append(newline + 1)
                        lineTimes.append(timeNanoseconds)
                    }
                }
                if found < offsets.count { break }
                offset += offsets[found - 1] + 1
            }
        }
        lastLineOpen = bytes.last != 0x0A
    }

    /// Byte range of line `index` without its `\n` (and without a `\r` before it).
    public func lineRange(_ index: Int) -> Range<Int> {
        let start = lineStarts[index]
        var end = index + 1 < lineStarts.count ? lineStarts[index + 1] - 1 : (lastLineOpen ? bytes.count : bytes.count - 1)
        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
        return start..<max(start, end)
    }

    /// True when line `index` has seen its `\n`.
    public func isComplete(_ index: Int) -> Bool { index < lineStarts.count - 1 || !lastLineOpen }

    /// Line `index` as text; invalid UTF-8 becomes U+FFFD (the stored bytes are unchanged).
    public func line(_ index: Int) -> String {
        String(decoding: bytes[lineRange(index)], as: UTF8.self)
    }

    /// Index of the line that holds byte `offset`.
    public func lineIndex(containing offset: Int) -> Int {
        var low = 0
        var high = lineStarts.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if lineStarts[middle] <= offset { low = middle } else { high = middle - 1 }
        }
        return max(0, low)
    }

    /// Packs line times as little-endian Int64s, for storage beside the bytes.
    public var packedLineTimes: [UInt8] {
        var packed: [UInt8] = []
        packed.reserveCapacity(lineTimes.count * 8)
        for time in lineTimes {
            withUnsafeBytes(of: time.littleEndian) { packed.append(contentsOf: $0) }
        }
        return packed
    }

    /// Unpacks `packedLineTimes`.
    public static func unpackLineTimes(_ packed: [UInt8]) -> [Int64] {
        stride(from: 0, to: packed.count - packed.count % 8, by: 8).map { offset in
            var value: Int64 = 0
            for index in 0..<8 { value |= Int64(packed[offset + index]) << (8 * index) }
            return Int64(littleEndian: value)
        }
    }
}
