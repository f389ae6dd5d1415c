import FarmCore

/// How much power a simulated board draws in each phase of a boot, in watts. Simulated meters
/// report these values (with a small deterministic ripple) so energy figures can be checked
/// against a known integral.
public struct BoardPowerModel: Sendable, Equatable {
    /// Power switched off.
    public var offWatts = 0.0
    /// Powered, before the bootloader runs.
    public var idleWatts = 0.6
    /// The bootloader running (DRAM init, network, TFTP).
    public var bootloaderWatts = 1.4
    /// The kernel booting (all cores busy).
    public var kernelWatts = 2.6
    /// User space up, mostly idle.
    public var userspaceWatts = 1.8
    /// Peak-to-peak ripple as a fraction of the level (0.02 = ±1 %).
    public var ripple = 0.02

    public init() {}

    /// The level for a boot phase; `nil` means power off.
    public func watts(at stage: Stage?) -> Double {
        switch stage {
        case nil: offWatts
        case .power?: idleWatts
        case .bootloader?: bootloaderWatts
        case .kernel?: kernelWatts
        case .userspace?, .prompt?, .tests?: userspaceWatts
        }
    }

    /// The level with ripple at sample number `sample` (a repeating triangle, so any window of
    /// whole periods averages to the level exactly).
    public func watts(at stage: Stage?, sample: Int) -> Double {
        let level = watts(at: stage)
        let period = 8
        let phase = Double(sample % period) / Double(period)
        let triangle = phase < 0.5 ? phase * 4 - 1 : 3 - phase * 4
        return level * (1 + ripple / 2 * triangle)
    }
}
