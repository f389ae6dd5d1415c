import Foundation
import Synchronization

/// The monotonic clock of one boot: zero at power-on. Consoles stamp lines with it, the boot
/// sequence measures stage deadlines with it. Before `start()` it reads zero.
public final class BootClock: Sendable {
    private let origin = Atomic<Int64>(0)

    public init() {}

    /// Marks power-on: from now on the clock counts.
    public func start() { origin.store(Self.monotonicNanoseconds(), ordering: .releasing) }

    /// Nanoseconds since power-on (0 before it).
    public var nanoseconds: Int64 {
        let start = origin.load(ordering: .acquiring)
        return start == 0 ? 0 : max(0, Self.monotonicNanoseconds() - start)
    }

    /// Seconds since power-on.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// CLOCK_MONOTONIC in nanoseconds.
    public static func monotonicNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    /// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID) in nanoseconds.
    public static func threadCPUNanoseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }
}
