import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A thread that reads power meters for the samplers attached to it, each at its own rate.
///
/// By default every sampler has a thread of its own, which isolates a meter that blocks (an I²C
/// bus timing out) from the others. An agent sampling many fast meters can instead give one
/// thread to all of them: ticks of every sampler lie on a grid of its period on the monotonic
/// clock, so samplers of the same rate are read in one wake-up. Sixty-four samplers at 1 kHz on
/// one thread cost about 1000 wake-ups a second instead of 64 000, which a two-core machine can
/// not keep up with.
///
/// The thread asks for real-time (`SCHED_FIFO`) priority: under load an ordinary thread can wake
/// several milliseconds late, which at 1 kHz loses samples, while a real-time one wakes within
/// tens of microseconds. Its work per tick is a few file reads, so it cannot starve the machine.
/// Where the priority is not granted (no `CAP_SYS_NICE`, no `rtprio` limit; systemd:
/// `LimitRTPRIO=`), the thread runs at normal priority and `isRealtime` is false.
///
/// The thread runs while at least one sampler is attached and ends when the last detaches.
public final class PowerSamplingThread: Sendable {
    /// The thread's name, as debuggers and `top -H` show it.
    public let name: String
    /// The `SCHED_FIFO` priority asked for; nil for normal scheduling.
    public let realtimePriority: Int32?
    private let shared = Mutex(Shared())
    private let cpuNanoseconds = Atomic<Int64>(0)
    private let realtime = Atomic<Bool>(false)

    /// The longest single sleep: bounds how late a newly attached sampler takes its first reading.
    private static let maximumSleepNanoseconds: Int64 = 10_000_000
    /// How often a meter that failed is tried again.
    private static let retryNanoseconds: Int64 = 100_000_000

    private struct Shared {
        var arriving: [PowerSampler] = []
        var leaving: Set<ObjectIdentifier> = []
        var running = false
        /// CPU time of the threads that ran before the current one.
        var finishedCPUNanoseconds: Int64 = 0
    }

    /// One sampler as the thread schedules it.
    private struct Entry {
        let sampler: PowerSampler
        /// The next tick to read, as a multiple of the period; -1 before the first.
        var nextTick: Int64 = -1
        var failing = false
        var retryAt: Int64 = 0

        var deadline: Int64 {
            let tick = nextTick * sampler.periodNanoseconds
            return failing ? max(tick, retryAt) : tick
        }
    }

    /// A thread named `name` (at most 15 bytes show in `top`), asking for `SCHED_FIFO` priority
    /// `realtimePriority` (default 10, low among real-time threads; nil: normal scheduling).
    public init(name: String = "power sampling", realtimePriority: Int32? = 10) {
        self.name = name
        self.realtimePriority = realtimePriority
    }

    /// Whether the thread got the real-time priority it asked for (known once it has started).
    public var isRealtime: Bool { realtime.load(ordering: .relaxed) }

    /// CPU time this thread has used, in seconds, summed over its runs (updated every wake-up).
    public var cpuSeconds: Double {
        Double(cpuNanoseconds.load(ordering: .relaxed)) / 1e9
    }

    func attach(_ sampler: PowerSampler) {
        let mustStart = shared.withLock { shared in
            shared.arriving.append(sampler)
            shared.leaving.remove(ObjectIdentifier(sampler))
            if shared.running { return false }
            shared.running = true
            return true
        }
        guard mustStart else { return }
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    func detach(_ sampler: PowerSampler) {
        shared.withLock { shared in
            shared.arriving.removeAll { $0 === sampler }
            if shared.running { shared.leaving.insert(ObjectIdentifier(sampler)) }
        }
    }

    private func run() {
        if let realtimePriority {
            var parameters = sched_param()
            parameters.sched_priority = realtimePriority
            realtime.store(pthread_setschedparam(pthread_self(), SCHED_FIFO, &parameters) == 0, ordering: .relaxed)
        }
        var entries: [Entry] = []
        let startCPU = Self.threadCPUNanoseconds()
        var baseCPU: Int64 = 0
        while true {
            let finished = shared.withLock { shared in
                if !shared.leaving.isEmpty {
                    entries.removeAll { shared.leaving.contains(ObjectIdentifier($0.sampler)) }
                    shared.leaving.removeAll()
                }
                entries += shared.arriving.map { Entry(sampler: $0) }
                shared.arriving.removeAll()
                baseCPU = shared.finishedCPUNanoseconds
                if entries.isEmpty {
                    shared.running = false
                    shared.finishedCPUNanoseconds += Self.threadCPUNanoseconds() - startCPU
                    return true
                }
                return false
            }
            if finished { return }

            var earliest = Int64.max
            for index in entries.indices {
                let now = Self.monotonicNanoseconds()
                if entries[index].nextTick < 0 { entries[index].nextTick = now / entries[index].sampler.periodNanoseconds }
                if now >= entries[index].deadline { sample(&entries[index], now: now) }
                earliest = min(earliest, entries[index].deadline)
            }
            cpuNanoseconds.store(baseCPU + Self.threadCPUNanoseconds() - startCPU, ordering: .relaxed)
            let wake = min(earliest, Self.monotonicNanoseconds() + Self.maximumSleepNanoseconds)
            Self.sleep(until: wake)
        }
    }

    /// Reads one sampler's meter for the tick that `now` falls in.
    private func sample(_ entry: inout Entry, now: Int64) {
        let sampler = entry.sampler
        let currentTick = now / sampler.periodNanoseconds
        // Ticks between the one wanted and the current one passed unread: lost, unless the meter
        // was failing and they were skipped on purpose until its retry.
        let missed = entry.failing ? 0 : Int(max(0, currentTick - entry.nextTick))
        entry.nextTick = currentTick + 1
        let before = sampler.clock.nanoseconds
        do {
            let reading = try sampler.meter.read()
            let after = sampler.clock.nanoseconds
            sampler.record(reading, atNanoseconds: before + (after - before) / 2, missedTicks: missed)
            entry.failing = false
        } catch {
            sampler.recordFailure(error, atNanoseconds: sampler.clock.nanoseconds, missedTicks: missed)
            entry.failing = true
            entry.retryAt = Self.monotonicNanoseconds() + Self.retryNanoseconds
        }
    }

    private static func sleep(until deadline: Int64) {
        var target = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        // An absolute deadline: a wake-up that comes late does not push the next one back.
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &target, nil) == EINTR {}
    }

    private static func monotonicNanoseconds() -> Int64 { BootClock.monotonicNanoseconds() }

    private static func threadCPUNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
