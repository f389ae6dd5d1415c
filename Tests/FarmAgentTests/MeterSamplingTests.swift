import FarmCore
import FarmDrivers
import Foundation
import Testing

@testable import FarmAgent

@Suite("Power meters of an agent's boards")
struct MeterSamplingTests {
    /// An INA226-like hwmon directory reading 2.5 W at 5 V.
    static func hwmonDirectory() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("bootfarm-hwmon-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, value) in [("name", "ina226"), ("power1_input", "2500000"), ("in1_input", "5000"), ("curr1_input", "500")] {
            try "\(value)\n".write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
        }
        return folder
    }

    /// Boards given one sampling thread (as an agent gives all of its boards) are read by it;
    /// without one, each meter gets threads of its own.
    @Test func metersOfRunnersSharingASamplingThreadAreReadByIt() async throws {
        let folders = [try Self.hwmonDirectory(), try Self.hwmonDirectory()]
        defer { for folder in folders { try? FileManager.default.removeItem(atPath: folder) } }
        let shared = PowerSamplingThread(name: "test power")
        let samplers = try folders.map { folder in
            let clock = BootClock()
            clock.start()
            return try JobRunner.sampler(
                for: MeterResource(kind: .hwmon, device: .path(folder), rateHz: 100), clock: clock, thread: shared)
        }
        #expect(samplers.allSatisfy { ($0 as? PowerSampler)?.thread === shared })
        for sampler in samplers { sampler.start() }
        try await Task.sleep(for: .milliseconds(300))
        let results = samplers.map { $0.stop() }
        for result in results {
            #expect(result.trace.count >= 10, "\(result.trace.count) samples in 0.3 s at 100 Hz")
            #expect(result.meterErrors == 0)
        }
        #expect(shared.cpuSeconds > 0)

        let own = try JobRunner.sampler(
            for: MeterResource(kind: .hwmon, device: .path(folders[0]), rateHz: 100), clock: BootClock(), thread: nil)
        let ownSampler = try #require(own as? PowerSampler)
        #expect(ownSampler.thread !== shared)
    }
}
