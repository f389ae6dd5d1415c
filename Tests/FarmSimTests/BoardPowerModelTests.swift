import FarmCore
import FarmSim
import Testing

@Suite("Simulated board power")
struct BoardPowerModelTests {
    @Test func eachStageHasItsLevelAndOffIsZero() {
        let model = BoardPowerModel()
        #expect(model.watts(at: nil) == 0)
        #expect(model.watts(at: .kernel) > model.watts(at: .bootloader))
        #expect(model.watts(at: .prompt) == model.watts(at: .userspace))
    }

    @Test func rippleAveragesToTheLevelOverWholePeriods() {
        let model = BoardPowerModel()
        let samples = (0..<800).map { model.watts(at: .kernel, sample: $0) }
        let mean = samples.reduce(0, +) / Double(samples.count)
        #expect(abs(mean - model.kernelWatts) < 1e-9)
        #expect(samples.max() ?? 0 <= model.kernelWatts * 1.01 + 1e-12)
        #expect(samples.min() ?? 0 >= model.kernelWatts * 0.99 - 1e-12)
    }
}
