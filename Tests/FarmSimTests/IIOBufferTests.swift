import FarmCore
import FarmDrivers
import FarmSim
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("IIO buffered capture")
struct IIOBufferTests {
    static func folder() throws -> String {
        let path = "/dev/shm/bootfarm-iio-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func scanTypesParseAsTheKernelWritesThem() throws {
        let power = try #require(IIOScanChannel(name: "power2", index: 2, type: "le:u16/16>>0\n"))
        #expect(!power.signed && !power.bigEndian && power.bits == 16 && power.storageBits == 16 && power.shift == 0)
        let shifted = try #require(IIOScanChannel(name: "voltage0", index: 0, type: "be:s12/16>>4"))
        #expect(shifted.signed && shifted.bigEndian && shifted.bits == 12 && shifted.shift == 4)
        for bad in ["", "le:u16", "xe:u16/16>>0", "le:q16/16>>0", "le:u17/16>>0", "le:u16/24>>0", "le:u16/16>>x"] {
            #expect(IIOScanChannel(name: "x", index: 0, type: bad) == nil, "\(bad)")
        }
        // Each channel aligned to its storage, the scan padded to the largest.
        let layout = IIOScanLayout([
            try #require(IIOScanChannel(name: "timestamp", index: 4, type: "le:s64/64>>0")),
            try #require(IIOScanChannel(name: "current3", index: 3, type: "le:s16/16>>0")),
            try #require(IIOScanChannel(name: "voltage1", index: 1, type: "le:u8/8>>0")),
        ])
        #expect(layout.channels.map(\.name) == ["voltage1", "current3", "timestamp"])
        #expect(layout.channels.map(\.offset) == [0, 2, 8])
        #expect(layout.size == 16)
        // A big-endian 12-bit signed value in the top bits: 0xF9C0 >> 4 = 0xF9C = -100.
        var scan: [UInt8] = [0xF9, 0xC0]
        var placed = shifted
        placed.offset = 0
        #expect(scan.withUnsafeBytes { placed.value(in: $0) } == -100)
        scan = [0x34, 0x12]
        #expect(scan.withUnsafeBytes { power.value(in: $0) } == 0x1234)
    }

    /// The device samples on its own timeline: every scan is 1 ms after the one before whatever
    /// the reader's timing, and the energy equals the model's integral.
    @Test func aCaptureKeepsEveryScanWithTheDevicesOwnTimes() async throws {
        let parent = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let start = BootClock.monotonicNanoseconds()
        // 2 W for the first 150 ms, then 3 W.
        let device = try SimulatedIIOBuffer(in: parent, name: "iio:device0") { time in time - start < 150_000_000 ? 2 : 3 }
        device.start()
        defer { device.stop() }
        let clock = BootClock()
        clock.start()
        let capture = try IIOBufferedCapture(directory: device.directory, bufferDevice: device.bufferDevice, clock: clock)
        #expect(capture.periodNanoseconds == 1_000_000)
        #expect(capture.layout.size == 16)
        capture.start()
        try await Task.sleep(for: .milliseconds(500))
        let result = capture.stop()
        #expect(result.meterErrors == 0, "\(result.warnings)")
        #expect(result.lostSamples == 0)
        let trace = result.trace
        #expect(trace.count >= 250, "\(trace.count) scans")
        let steps = zip(trace.dropFirst(), trace).map { $0.timeNanoseconds - $1.timeNanoseconds }
        #expect(steps.allSatisfy { $0 == 1_000_000 })
        #expect(trace.allSatisfy { $0.voltageMicrovolts == 5_000_000 })
        // The model's integral over the captured span (left samples hold until the next).
        let first = try #require(trace.first).timeNanoseconds + clockOffset(clock)
        let last = try #require(trace.last).timeNanoseconds + clockOffset(clock)
        func joules(_ from: Int64, _ to: Int64) -> Double {
            let edge = start + 150_000_000
            let low = Double(max(0, min(to, edge) - from)) / 1e9 * 2
            let high = Double(max(0, to - max(from, edge))) / 1e9 * 3
            return low + high
        }
        let expected = joules(first, last)
        #expect(abs(trace.energyJoules - expected) / expected < 0.01, "\(trace.energyJoules) J against \(expected) J")
    }

    /// Captures sharing one reading thread each keep every scan of their own device, and one
    /// stopping leaves the other reading.
    @Test func capturesSharingAReaderEachKeepTheirScans() async throws {
        let parent = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let devices = try [1.0, 4.0].enumerated().map { index, watts in
            try SimulatedIIOBuffer(in: parent, name: "iio:device\(index + 5)") { _ in watts }
        }
        for device in devices { device.start() }
        defer { for device in devices { device.stop() } }
        let clock = BootClock()
        clock.start()
        let reader = IIOBufferReader(name: "test buffers", intervalMilliseconds: 5)
        let captures = try devices.map { device in
            try IIOBufferedCapture(directory: device.directory, bufferDevice: device.bufferDevice, reader: reader, clock: clock)
        }
        for capture in captures { capture.start() }
        try await Task.sleep(for: .milliseconds(300))
        let first = captures[0].stop()
        try await Task.sleep(for: .milliseconds(300))
        let second = captures[1].stop()
        #expect(first.lostSamples == 0 && second.lostSamples == 0)
        #expect(first.trace.allSatisfy { $0.powerMicrowatts == 1_000_000 })
        #expect(second.trace.allSatisfy { $0.powerMicrowatts == 4_000_000 })
        #expect(first.trace.count >= 150, "\(first.trace.count)")
        // The second went on reading after the first stopped.
        #expect(second.trace.count >= first.trace.count + 200, "\(second.trace.count) after \(first.trace.count)")
        for trace in [first.trace, second.trace] {
            #expect(zip(trace.dropFirst(), trace).allSatisfy { $0.timeNanoseconds - $1.timeNanoseconds == 1_000_000 })
        }
        #expect(reader.cpuSeconds > 0)
    }

    /// A device nobody reads fills its FIFO and then drops whole scans; what it queued stays
    /// whole scans, so a late reader stays aligned.
    @Test func aFullBufferDropsWholeScansAndStaysAligned() async throws {
        let parent = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let rate = 200_000.0
        let device = try SimulatedIIOBuffer(in: parent, name: "iio:device9", rateHz: rate) { _ in 1 }
        defer { device.stop() }
        try "1\n".write(toFile: device.directory + "/buffer/enable", atomically: false, encoding: .utf8)
        device.start()
        try await Task.sleep(for: .milliseconds(800))
        #expect(device.droppedScans > 0)
        let reader = open(device.bufferDevice, O_RDONLY | O_NONBLOCK)
        #expect(reader >= 0)
        defer { close(reader) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[0..<count]
        }
        #expect(bytes.count >= 16 * 1000)
        let period = Int64((1e9 / rate).rounded())
        var stamps: [Int64] = []
        for offset in stride(from: 0, to: bytes.count - 15, by: 16) {
            #expect(bytes[offset] == 0xA0 && bytes[offset + 1] == 0x0F, "bus voltage of the scan at byte \(offset)")
            stamps.append(bytes[(offset + 8)..<(offset + 16)].reversed().reduce(Int64(0)) { $0 << 8 | Int64($1) })
        }
        let first = try #require(stamps.first)
        #expect(stamps.allSatisfy { ($0 - first) % period == 0 })
        #expect(zip(stamps.dropFirst(), stamps).allSatisfy { $0 > $1 })
    }

    /// Monotonic time minus boot-clock time.
    func clockOffset(_ clock: BootClock) -> Int64 { BootClock.monotonicNanoseconds() - clock.nanoseconds }

    /// A gap in the device's stamps is counted as lost samples, scans split across reads are
    /// put together, and a device that cannot be opened is a meter error, not a crash.
    @Test func gapsInTheStampsAreLostSamples() async throws {
        let parent = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        // Not started: the test writes the scans itself.
        let device = try SimulatedIIOBuffer(in: parent, name: "iio:device1") { _ in 1 }
        defer { device.stop() }
        let clock = BootClock()
        clock.start()
        let capture = try IIOBufferedCapture(directory: device.directory, bufferDevice: device.bufferDevice, clock: clock)
        capture.start()
        let writer = open(device.bufferDevice, O_WRONLY | O_NONBLOCK)
        #expect(writer >= 0)
        defer { close(writer) }
        let base = BootClock.monotonicNanoseconds()
        var bytes: [UInt8] = []
        for tick in [0, 1, 2, 7, 8] as [Int64] {
            bytes += [0xA0, 0x0F, 0xD0, 0x07, 0x20, 0x03, 0, 0]  // 5 V (4000 × 1.25 mV), 1 W (2000 × 0.5 mW), 200 mA (800 × 0.25 mA)
            withUnsafeBytes(of: (base + tick * 1_000_000).littleEndian) { bytes += $0 }
        }
        // In two writes that split a scan.
        _ = bytes.withUnsafeBytes { write(writer, $0.baseAddress, 21) }
        try await Task.sleep(for: .milliseconds(60))
        _ = bytes.withUnsafeBytes { write(writer, $0.baseAddress! + 21, $0.count - 21) }
        try await Task.sleep(for: .milliseconds(60))
        let result = capture.stop()
        #expect(result.trace.count == 5)
        #expect(result.lostSamples == 4)
        #expect(
            result.trace.allSatisfy {
                $0.powerMicrowatts == 1_000_000 && $0.currentMicroamps == 200_000 && $0.voltageMicrovolts == 5_000_000
            })
        #expect(result.warnings.contains { $0.contains("4 samples missing") })

        let missing = try IIOBufferedCapture(directory: device.directory, bufferDevice: parent + "/no-such-device", clock: clock)
        missing.start()
        let failed = missing.stop()
        #expect(failed.meterErrors == 1)
        #expect(failed.trace.isEmpty)
    }

    @Test func aDirectoryWithoutABufferIsRejectedNamingTheFile() throws {
        let parent = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        #expect(throws: PowerMeterError.missingDirectory(path: parent + "/absent")) {
            try IIOBufferedCapture(directory: parent + "/absent", clock: BootClock())
        }
        #expect(throws: PowerMeterError.self) { try IIOBufferedCapture(directory: parent, clock: BootClock()) }
    }
}
