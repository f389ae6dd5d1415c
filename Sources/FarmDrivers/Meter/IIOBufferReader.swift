import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One thread that reads the buffers of many `IIOBufferedCapture`s: every interval it takes what
/// each device has queued. The devices keep seconds of scans, so one wake-up every 10 ms serves
/// any number of meters, where a thread each would wake as many times. The thread runs while at
/// least one capture is attached.
public final class IIOBufferReader: Sendable {
    /// The thread's name, as debuggers and `top -H` show it.
    public let name: String
    /// Milliseconds between passes over the devices.
    public let intervalMilliseconds: Int
    private let entries = Mutex<[Entry]>([])
    private let running = Mutex(false)
    private let cpuNanoseconds = Atomic<Int64>(0)

    /// One capture's device; whoever holds `lock` may read it.
    private final class Entry: Sendable {
        let capture: IIOBufferedCapture
        let descriptor: Int32
        /// Held while the device is read; holds false once the descriptor is closed.
        let lock = Mutex(true)

        init(capture: IIOBufferedCapture, descriptor: Int32) {
            self.capture = capture
            self.descriptor = descriptor
        }
    }

    public init(name: String = "iio buffers", intervalMilliseconds: Int = 10) {
        self.name = name
        self.intervalMilliseconds = max(1, intervalMilliseconds)
    }

    /// CPU time of the reading thread so far, in seconds.
    public var cpuSeconds: Double { Double(cpuNanoseconds.load(ordering: .relaxed)) / 1e9 }

    /// Starts reading `capture`'s device from `descriptor` (non-blocking; closed on detach).
    func attach(_ capture: IIOBufferedCapture, descriptor: Int32) {
        entries.withLock { $0.append(Entry(capture: capture, descriptor: descriptor)) }
        let start = running.withLock { running -> Bool in
            defer { running = true }
            return !running
        }
        guard start else { return }
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.start()
    }

    /// Stops reading `capture`'s device, after taking what it has queued when `finalDrain`, and
    /// closes it. When this returns the thread no longer touches it.
    func detach(_ capture: IIOBufferedCapture, finalDrain: Bool) {
        let removed = entries.withLock { entries -> Entry? in
            guard let index = entries.firstIndex(where: { $0.capture === capture }) else { return nil }
            return entries.remove(at: index)
        }
        guard let removed else { return }
        removed.lock.withLock { open in
            if finalDrain && open { _ = capture.drain(removed.descriptor) }
            open = false
            close(removed.descriptor)
        }
    }

    private func run() {
        while true {
            let current = entries.withLock { $0 }
            if current.isEmpty {
                let stop = running.withLock { running -> Bool in
                    if entries.withLock({ $0.isEmpty }) { running = false }
                    return !running
                }
                if stop { return }
            }
            for entry in current {
                entry.lock.withLock { open in
                    guard open else { return }
                    if !entry.capture.drain(entry.descriptor) {
                        // The device failed (its error is in the capture's result): stop reading it.
                        open = false
                        entries.withLock { entries in entries.removeAll { $0 === entry } }
                        close(entry.descriptor)
                    }
                }
            }
            cpuNanoseconds.store(BootClock.threadCPUNanoseconds(), ordering: .relaxed)
            usleep(UInt32(intervalMilliseconds * 1000))
        }
    }
}
