import FarmDrivers
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The one thread that updates the files of every started `SimulatedPowerSensor` in the
/// process, each sensor at its own rate.
///
/// One thread for all of them because a simulated lab or a benchmark runs tens of sensors: a
/// thread each would wake tens of times more often for the same file updates. Update ticks lie
/// on a grid of each sensor's period on the monotonic clock, so sensors of one rate are updated
/// in one wake-up. Sensors are held weakly: one dropped without `stop()` is left out. The thread
/// runs while a sensor is registered.
final class SimulatedPowerSensorWriter: Sendable {
    /// The writer every sensor uses.
    static let shared = SimulatedPowerSensorWriter()

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
        weak var sensor: SimulatedPowerSensor?
        let identifier: ObjectIdentifier
        let periodNanoseconds: Int64
        /// The next update, as a multiple of the period.
        var nextTick: Int64
    }

    /// CPU time the writer thread has used, in seconds, over all its runs.
    var cpuSeconds: Double { Double(cpuNanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Updates `sensor` every `periodNanoseconds`, the first time a whole period or more from now
    /// (the caller wrote its first values).
    func register(_ sensor: SimulatedPowerSensor, periodNanoseconds: Int64) {
        let now = BootClock.monotonicNanoseconds()
        let mustStart = state.withLock { state in
            state.registrations.append(
                Registration(
                    sensor: sensor, identifier: ObjectIdentifier(sensor), periodNanoseconds: periodNanoseconds,
                    nextTick: now / periodNanoseconds + 2))
            if state.running { return false }
            state.running = true
            return true
        }
        guard mustStart else { return }
        let thread = Thread { [self] in run() }
        thread.name = "simulated power sensors"
        thread.start()
    }

    /// Stops updating `sensor`. An update under way may still finish; the sensor's own lock
    /// keeps it from writing after its `stop()`.
    func unregister(_ sensor: SimulatedPowerSensor) {
        let identifier = ObjectIdentifier(sensor)
        state.withLock { state in state.registrations.removeAll { $0.identifier == identifier } }
    }

    private func run() {
        var lastCPU = Self.threadCPUNanoseconds()
        var due: [SimulatedPowerSensor] = []
        while true {
            due.removeAll(keepingCapacity: true)
            let now = BootClock.monotonicNanoseconds()
            let wake = state.withLock { state -> Int64? in
                state.registrations.removeAll { $0.sensor == nil }
                if state.registrations.isEmpty {
                    state.running = false
                    return nil
                }
                var wake = Int64.max
                for index in state.registrations.indices {
                    let period = state.registrations[index].periodNanoseconds
                    if now >= state.registrations[index].nextTick * period, let sensor = state.registrations[index].sensor {
                        due.append(sensor)
                        // Updates that came due while the thread was held up are skipped, not
                        // made up in a burst.
                        state.registrations[index].nextTick = now / period + 1
                    }
                    wake = min(wake, state.registrations[index].nextTick * period)
                }
                return wake
            }
            guard let wake else { break }
            // Outside the writer's lock: a sensor's update takes the sensor's own lock.
            for sensor in due { sensor.update() }
            due.removeAll(keepingCapacity: true)
            let cpu = Self.threadCPUNanoseconds()
            cpuNanoseconds.wrappingAdd(cpu - lastCPU, ordering: .relaxed)
            lastCPU = cpu
            let until = min(wake, BootClock.monotonicNanoseconds() + Self.maximumSleepNanoseconds)
            var target = timespec(tv_sec: Int(until / 1_000_000_000), tv_nsec: Int(until % 1_000_000_000))
            // Absolute deadlines: the update rate does not drift with the time writes take.
            while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
        }
        cpuNanoseconds.wrappingAdd(Self.threadCPUNanoseconds() - lastCPU, ordering: .relaxed)
    }

    private static func threadCPUNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
