import Foundation

/// How one channel sits in an IIO buffer scan, from its `scan_elements/in_<channel>_type` file
/// (`le:u16/16>>0`: little-endian, unsigned, 16 bits of data in 16 bits of storage, shifted right
/// by 0) and its `_index` file.
public struct IIOScanChannel: Sendable, Equatable {
    /// The channel as sysfs names it: `power2`, `voltage1`, `current3`, `timestamp`.
    public var name: String
    /// Its place in the scan: channels are stored by increasing index.
    public var index: Int
    public var bigEndian: Bool
    public var signed: Bool
    /// Bits of data.
    public var bits: Int
    /// Bits of storage (8, 16, 32 or 64); the channel is aligned to its storage size.
    public var storageBits: Int
    /// Right shift applied to the stored value before masking to `bits`.
    public var shift: Int
    /// Byte offset in the scan (set by `IIOScanLayout`).
    public var offset = 0

    /// A channel of `name` at `index` whose type file reads `type`; nil when `type` is not in the
    /// kernel's `[be|le]:[s|u]bits/storagebits[>>shift]` form or is a storage size this reader
    /// does not handle (repeated channels, storage other than 8–64 bits).
    public init?(name: String, index: Int, type: String) {
        let text = type.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = text.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, parts[0] == "le" || parts[0] == "be" else { return nil }
        var rest = Substring(parts[1])
        guard let sign = rest.first, sign == "s" || sign == "u" else { return nil }
        rest = rest.dropFirst()
        var shift = 0
        if let shiftRange = rest.range(of: ">>") {
            guard let value = Int(rest[shiftRange.upperBound...]) else { return nil }
            shift = value
            rest = rest[..<shiftRange.lowerBound]
        }
        let sizes = rest.split(separator: "/")
        guard sizes.count == 2, let bits = Int(sizes[0]), let storage = Int(sizes[1]), [8, 16, 32, 64].contains(storage),
            (1...storage).contains(bits), shift >= 0, shift < storage
        else { return nil }
        self.name = name
        self.index = index
        bigEndian = parts[0] == "be"
        signed = sign == "s"
        self.bits = bits
        storageBits = storage
        self.shift = shift
    }

    /// The value stored at `scan`'s byte `offset`: shifted, masked to `bits`, sign-extended.
    public func value(in scan: UnsafeRawBufferPointer) -> Int64 {
        var raw: UInt64 = 0
        let size = storageBits / 8
        for byte in 0..<size {
            let value = UInt64(scan[offset + (bigEndian ? byte : size - 1 - byte)])
            raw = raw << 8 | value
        }
        raw >>= UInt64(shift)
        if bits < 64 { raw &= (UInt64(1) << UInt64(bits)) - 1 }
        if signed && bits < 64 && raw & (UInt64(1) << UInt64(bits - 1)) != 0 {
            raw |= ~((UInt64(1) << UInt64(bits)) - 1)
        }
        return Int64(bitPattern: raw)
    }
}

/// The byte layout of one scan: enabled channels by index, each aligned to its storage size, the
/// whole padded to the largest alignment (the kernel's `iio_compute_scan_bytes`).
public struct IIOScanLayout: Sendable, Equatable {
    /// The channels with their byte offsets, by index.
    public let channels: [IIOScanChannel]
    /// Bytes in one scan.
    public let size: Int

    public init(_ channels: [IIOScanChannel]) {
        var placed: [IIOScanChannel] = []
        var offset = 0
        var largest = 1
        for var channel in channels.sorted(by: { $0.index < $1.index }) {
            let size = channel.storageBits / 8
            offset = (offset + size - 1) / size * size
            channel.offset = offset
            offset += size
            largest = max(largest, size)
            placed.append(channel)
        }
        self.channels = placed
        size = placed.isEmpty ? 0 : (offset + largest - 1) / largest * largest
    }

    /// The channel named `name`.
    public func channel(_ name: String) -> IIOScanChannel? { channels.first { $0.name == name } }
}
