import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The threads that read power meters for the samplers attached to them, each at its own rate:
/// a main thread and, on a machine with more than one processor, a standby.
///
/// By default every sampler has threads of its own, which isolates a meter that blocks (an I²C
/// bus timing out) from the others. An agent sampling many fast meters can instead give one
/// `PowerSamplingThread` to all of them: ticks of every sampler lie on a grid of its period on
/// the monotonic clock, so samplers of the same rate are read in one wake-up. Sixty-four samplers
/// at 1 kHz on one thread cost about 1000 wake-ups a second instead of 64 000, which a two-core
/// machine can not keep up with.
///
/// The threads ask for real-time (`SCHED_FIFO`) priority: under load an ordinary thread can wake
/// several milliseconds late, which at 1 kHz loses samples, while a real-time one wakes within
/// tens of microseconds. Their work per tick is a few file reads, so they cannot starve the
/// machine. Where the priority is not granted (no `CAP_SYS_NICE`, no `rtprio` limit; systemd:
/// `LimitRTPRIO=`), they run at normal priority and `isRealtime` is false.
///
/// Even a real-time thread stops now and then when its processor does (a virtual machine whose
/// host runs something else; a long interrupt): on a busy virtual machine a thread that does
/// nothing but wake every millisecond misses about one wake in a hundred by more than a
/// millisecond, several milliseconds at a time. The standby covers those. It runs on another
/// processor than the main thread (each is pinned to one where the system allows) and wakes half
/// a period after each tick is due; when it finds that the main thread has not been through that
/// tick, it reads the meters the main thread has not begun, so a tick is lost only when both
/// processors stall at once, or when the main thread stalls in the middle of that very meter's
/// read. While the main thread keeps up, each wake-up of the standby costs a clock read and an
/// atomic load. The two never read one meter at the same time.
///
/// The threads run while at least one sampler is attached and end when the last detaches.
public final class PowerSamplingThread: Sendable {
    /// The thread's name, as debuggers and `top -H` show it (the standby's adds "standby").
    public let name: String
    /// The `SCHED_FIFO` priority asked for; nil for normal scheduling.
    public let realtimePriority: Int32?
    /// Whether a standby thread backs the main one.
    public let hasStandby: Bool
    private let shared = Mutex(Shared())
    private let cpuNanoseconds = Atomic<Int64>(0)
    /// 0 before a thread asked for real-time priority, 1 granted, 2 refused to some thread.
    private let realtimeState = Atomic<Int>(0)
    /// When the standby is to look next (monotonic nanoseconds): half a period after the earliest
    /// tick due, as the thread that went through the samplers last planned it. The main thread
    /// moves it on every pass, so the standby finding it passed means the main thread is late.
    private let standbyCheck = Atomic<Int64>(0)
    private let standbyReadingCount = Atomic<Int>(0)
    /// Which processors the two threads take, among those allowed (see `run`).
    private let placement: Int

    /// Sampling threads made so far, so that each pair takes other processors than the last.
    private static let instances = Atomic<Int>(0)

    /// The longest single sleep: bounds how late a newly attached sampler takes its first reading.
    private static let maximumSleepNanoseconds: Int64 = 10_000_000
    /// How often a meter that failed is tried again.
    private static let retryNanoseconds: Int64 = 100_000_000

    private struct Shared {
        /// The samplers attached; a thread takes a copy of the list for each pass.
        var entries: [Entry] = []
        /// Whether the main thread (0) and the standby (1) are running.
        var running = [false, false]
        /// Samplers attached so far, to spread their voltage-and-current readings over ticks.
        var attached = 0
    }

    /// One sampler as the threads schedule it. Whichever thread holds `schedule` reads the meter.
    private final class Entry: Sendable {
        let sampler: PowerSampler
        let schedule: Mutex<Schedule>

        init(sampler: PowerSampler, serial: Int) {
            self.sampler = sampler
            schedule = Mutex(Schedule(serial: serial))
        }
    }

    private struct Schedule {
        /// The next tick to read, as a multiple of the period; -1 before the first.
        var nextTick: Int64 = -1
        /// The first tick at or after which voltage and current are read again.
        var nextFullTick = Int64.min
        /// Spreads samplers' full readings over the ticks between two of them.
        let serial: Int
        var failing = false
        var retryAt: Int64 = 0

        init(serial: Int) { self.serial = serial }

        func deadline(periodNanoseconds: Int64) -> Int64 {
            let tick = nextTick * periodNanoseconds
            return failing ? max(tick, retryAt) : tick
        }
    }

    /// The monotonic clock as one pass reads it: once at the start and once after each read (the
    /// end of one read is the start of the next), and the offset of each boot clock from it
    /// measured once a pass, so that stamping a reading takes no clock read of its own.
    private struct PassClock {
        /// The latest reading of the monotonic clock.
        var now = PowerSamplingThread.monotonicNanoseconds()
        private var offsetClock: BootClock?
        /// Boot clock minus monotonic clock; nil while the boot clock has not started.
        private var offset: Int64?

        /// Reads the monotonic clock again.
        mutating func advance() { now = PowerSamplingThread.monotonicNanoseconds() }

        /// The time on `clock` of the monotonic instant `monotonic` (0 before the clock starts).
        mutating func bootNanoseconds(_ clock: BootClock, atMonotonic monotonic: Int64) -> Int64 {
            if offsetClock !== clock {
                let before = PowerSamplingThread.monotonicNanoseconds()
                let boot = clock.nanoseconds
                let after = PowerSamplingThread.monotonicNanoseconds()
                offsetClock = clock
                offset = boot == 0 ? nil : boot - (before + (after - before) / 2)
            }
            guard let offset else { return 0 }
            return max(0, monotonic + offset)
        }
    }

    /// Threads named `name` (at most 15 bytes show in `top`), asking for `SCHED_FIFO` priority
    /// `realtimePriority` (default 10, low among real-time threads; nil: normal scheduling).
    ///
    /// - Parameter standby: also run the standby thread (default); it is left out anyway on a
    ///   machine with one processor, where it could not run while the main thread is held up.
    public init(name: String = "power sampling", realtimePriority: Int32? = 10, standby: Bool = true) {
        self.name = name
        self.realtimePriority = realtimePriority
        hasStandby = standby && ProcessInfo.processInfo.activeProcessorCount > 1
        placement = Self.instances.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Whether every thread got the real-time priority it asked for (known once they started).
    public var isRealtime: Bool { realtimeState.load(ordering: .relaxed) == 1 }

    /// CPU time the threads have used, in seconds, summed over their runs (updated every
    /// wake-up).
    public var cpuSeconds: Double {
        Double(cpuNanoseconds.load(ordering: .relaxed)) / 1e9
    }

    /// Readings the standby took because the main thread was late, since the threads were made.
    public var standbyReadings: Int { standbyReadingCount.load(ordering: .relaxed) }

    func attach(_ sampler: PowerSampler) {
        let workers = hasStandby ? 2 : 1
        let starting = shared.withLock { shared -> [Int] in
            shared.entries.append(Entry(sampler: sampler, serial: shared.attached))
            shared.attached += 1
            let stopped = (0..<workers).filter { !shared.running[$0] }
            for worker in stopped { shared.running[worker] = true }
            return stopped
        }
        for worker in starting {
            let thread = Thread { [self] in run(standby: worker == 1) }
            thread.name = worker == 0 ? name : name + " standby"
            thread.start()
        }
    }

    func detach(_ sampler: PowerSampler) {
        shared.withLock { shared in shared.entries.removeAll { $0.sampler === sampler } }
    }

    /// The loop of the main thread or the standby.
    private func run(standby: Bool) {
        if hasStandby {
            // Each on a processor of its own: a timer queued on a stalled processor does not fire
            // either, so a standby sharing the main thread's processor would stall with it. Pairs
            // of threads go round the processors, the main threads from the last one down.
            let processors = ProcessorAffinity.allowedProcessors()
            if processors.count >= 2 {
                let main = processors.count - 1 - placement % processors.count
                let index = standby ? (main + processors.count - 1) % processors.count : main
                ProcessorAffinity.pinCurrentThread(to: processors[index])
            }
        }
        if let realtimePriority {
            var parameters = sched_param()
            parameters.sched_priority = realtimePriority
            if pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0 {
                _ = realtimeState.compareExchange(expected: 0, desired: 1, ordering: .relaxed)
            } else {
                realtimeState.store(2, ordering: .relaxed)
            }
        }
        var lastCPU = Self.threadCPUNanoseconds()
        while true {
            var wake: Int64
            let planned = standby ? standbyCheck.load(ordering: .acquiring) : 0
            let now = Self.monotonicNanoseconds()
            if standby && planned > now {
                // The main thread has been through the tick this wake-up was to check.
                wake = planned
            } else {
                let snapshot = shared.withLock { shared -> [Entry]? in
                    if shared.entries.isEmpty {
                        shared.running[standby ? 1 : 0] = false
                        return nil
                    }
                    return shared.entries
                }
                guard let entries = snapshot else { break }
                let next = pass(entries, standby: standby)
                standbyCheck.store(next.check, ordering: .releasing)
                wake = standby ? next.check : next.wake
            }
            let cpu = Self.threadCPUNanoseconds()
            cpuNanoseconds.wrappingAdd(cpu - lastCPU, ordering: .relaxed)
            lastCPU = cpu
            wake = min(wake, Self.monotonicNanoseconds() + Self.maximumSleepNanoseconds)
            Self.sleep(until: wake)
        }
        if !standby {
            // Let the standby see at once that there is nothing left.
            standbyCheck.store(0, ordering: .releasing)
        }
        cpuNanoseconds.wrappingAdd(Self.threadCPUNanoseconds() - lastCPU, ordering: .relaxed)
    }

    /// Reads every sampler whose tick is due, or for the standby due half a period ago, and not
    /// being read by the other thread. Returns when the main thread is to wake next (the earliest
    /// tick due) and when the standby is to look next (half a period after it).
    private func pass(_ entries: [Entry], standby: Bool) -> (wake: Int64, check: Int64) {
        var clock = PassClock()
        var wake = Int64.max
        var check = Int64.max
        for entry in entries {
            let period = entry.sampler.periodNanoseconds
            let lag = standby ? period / 2 : 0
            let deadline = entry.schedule.withLockIfAvailable { schedule -> Int64 in
                if schedule.nextTick < 0 { schedule.nextTick = clock.now / period }
                if clock.now >= schedule.deadline(periodNanoseconds: period) + lag {
                    sample(entry.sampler, &schedule, clock: &clock)
                    if standby { standbyReadingCount.wrappingAdd(1, ordering: .relaxed) }
                }
                return schedule.deadline(periodNanoseconds: period)
            }
            // Nil: the other thread is reading this meter; look again at the next tick.
            let next = deadline ?? (clock.now / period + 1) * period
            wake = min(wake, next)
            check = min(check, next + period / 2)
        }
        return (wake, check)
    }

    /// Reads `sampler`'s meter for its next tick, or for the tick `clock.now` falls in when the
    /// next one is lost (the tick after it is due already).
    private func sample(_ sampler: PowerSampler, _ schedule: inout Schedule, clock: inout PassClock) {
        let started = clock.now
        let currentTick = started / sampler.periodNanoseconds
        let tick: Int64
        let missed: Int
        if schedule.failing {
            // A retry: the ticks skipped while waiting for it were not wanted.
            tick = currentTick
            missed = 0
        } else if currentTick > schedule.nextTick {
            tick = currentTick
            missed = Int(currentTick - schedule.nextTick)
        } else {
            tick = schedule.nextTick
            missed = 0
        }
        schedule.nextTick = tick + 1
        let interval = sampler.fullReadingIntervalTicks
        let full = interval > 0 && tick >= schedule.nextFullTick
        do {
            let reading = full ? try sampler.meter.read() : try sampler.meter.readPower()
            clock.advance()
            let time = clock.bootNanoseconds(sampler.clock, atMonotonic: started + (clock.now - started) / 2)
            sampler.record(reading, atNanoseconds: time, missedTicks: missed)
            schedule.failing = false
            if full {
                // The first full reading after a start or a failure is at once; the next ones on
                // this sampler's own offset into the interval, so that samplers sharing a
                // thread do not all read three files in the same tick.
                let offset = Int64(schedule.serial) % interval
                schedule.nextFullTick = (tick - offset) / interval * interval + offset + interval
            }
        } catch {
            clock.advance()
            sampler.recordFailure(error, atNanoseconds: clock.bootNanoseconds(sampler.clock, atMonotonic: clock.now), missedTicks: missed)
            schedule.failing = true
            schedule.nextFullTick = Int64.min
            schedule.retryAt = clock.now + Self.retryNanoseconds
        }
    }

    private static func sleep(until deadline: Int64) {
        var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        // An absolute deadline: a wake-up that comes late does not push the next one back.
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
    }

    fileprivate static func monotonicNanoseconds() -> Int64 { BootClock.monotonicNanoseconds() }

    private static func threadCPUNanoseconds() -> Int64 { BootClock.threadCPUNanoseconds() }
}
