import FarmDrivers
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A simulated device whose files the writer thread updates now and then.
protocol PeriodicDevice: AnyObject, Sendable {
    /// One update, from the writer thread.
    func update()
}

/// The one thread that updates every started simulated device in the process (the files of a
/// `SimulatedPowerSensor`, the scans of a `SimulatedIIOBuffer`), each at its own rate.
///
/// One thread for all of them because a simulated lab or a benchmark runs tens of devices: a
/// thread each would wake tens of times more often for the same updates. Update ticks lie on a
/// grid of each device's period on the monotonic clock, so devices of one rate are updated in
/// one wake-up. Devices are held weakly: one dropped without `stop()` is left out. The thread
/// runs while a device is registered.
final class SimulatedDeviceWriter: Sendable {
    /// The writer every device uses.
    static let shared = SimulatedDeviceWriter()

    private let state = Mutex(State())
    private let cpuNanoseconds = Atomic<Int64>(0)

    /// The longest single sleep: bounds how late the updates of a sensor registered while the
    /// thread sleeps (for a slower sensor) begin.
    private static let maximumSleepNanoseconds: Int64 = 20_000_000

    private struct State {
        var registrations: [Registration] = []
        var running = false
    }

    private struct Registration {
        weak var device: (any PeriodicDevice)?
        let identifier: ObjectIdentifier
        let periodNanoseconds: Int64
        /// The next update, as a multiple of the period.
        var nextTick: Int64
    }

    /// CPU time the writer thread has used, in seconds, over all its runs.
    var cpuSeconds: Double { Double(cpuNanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Updates `device` every `periodNanoseconds`, the first time a whole period or more from now
    /// (the caller wrote its first values).
    func register(_ device: any PeriodicDevice, periodNanoseconds: Int64) {
        let now = BootClock.monotonicNanoseconds()
        let mustStart = state.withLock { state in
            state.registrations.append(
                Registration(
                    device: device, identifier: ObjectIdentifier(device), periodNanoseconds: periodNanoseconds,
                    nextTick: now / periodNanoseconds + 2))
            if state.running { return false }
            state.running = true
            return true
        }
        guard mustStart else { return }
        let thread = Thread { [self] in run() }
        thread.name = "simulated devices"
        thread.start()
    }

    /// Stops updating `device`. An update under way may still finish; the device's own lock
    /// keeps it from writing after its `stop()`.
    func unregister(_ device: any PeriodicDevice) {
        let identifier = ObjectIdentifier(device)
        state.withLock { state in state.registrations.removeAll { $0.identifier == identifier } }
    }

    private func run() {
        var lastCPU = BootClock.threadCPUNanoseconds()
        var due: [any PeriodicDevice] = []
        while true {
            due.removeAll(keepingCapacity: true)
            let now = BootClock.monotonicNanoseconds()
            let wake = state.withLock { state -> Int64? in
                state.registrations.removeAll { $0.device == nil }
                if state.registrations.isEmpty {
                    state.running = false
                    return nil
                }
                var wake = Int64.max
                for index in state.registrations.indices {
                    let period = state.registrations[index].periodNanoseconds
                    if now >= state.registrations[index].nextTick * period, let device = state.registrations[index].device {
                        due.append(device)
                        // Updates that came due while the thread was held up are skipped, not
                        // made up in a burst.
                        state.registrations[index].nextTick = now / period + 1
                    }
                    wake = min(wake, state.registrations[index].nextTick * period)
                }
                return wake
            }
            guard let wake else { break }
            // Outside the writer's lock: a device's update takes the device's own lock.
            for device in due { device.update() }
            due.removeAll(keepingCapacity: true)
            let cpu = BootClock.threadCPUNanoseconds()
            cpuNanoseconds.wrappingAdd(cpu - lastCPU, ordering: .relaxed)
            lastCPU = cpu
            let until = min(wake, BootClock.monotonicNanoseconds() + Self.maximumSleepNanoseconds)
            var target = timespec(tv_sec: Int(until / 1_000_000_000), tv_nsec: Int(until % 1_000_000_000))
            // Absolute deadlines: the update rate does not drift with the time writes take.
            while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
        }
        cpuNanoseconds.wrappingAdd(BootClock.threadCPUNanoseconds() - lastCPU, ordering: .relaxed)
    }
}
