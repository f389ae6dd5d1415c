import FarmCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A console over a file descriptor: a serial tty, a PTY or a TCP socket.
///
/// A dedicated reader thread polls the descriptor and appends every chunk to the transcript the
/// moment it arrives, so line times are arrival times and nothing waits on Swift's cooperative
/// pool (which a blocking read would starve). Pattern waits are resolved on that thread too: a
/// waiter is resumed as soon as its pattern is in, without rescanning what was consumed.
///
/// End of file (or EIO) closes the console, unless a `ConsoleReopenPolicy` is given and the
/// endpoint is `.serial`: then the reader waits for the device to come back, reopens it, and
/// marks the gap in the transcript with a line such as
/// `[bootfarm: console lost at 12.345 s, reopened after 1.234 s]` (or `…, not back after 10.000 s]`
/// before it gives up and closes). Pending waits keep waiting through the gap, to their deadlines.
public final class StreamConsole: Console, @unchecked Sendable {
    /// Where the console is.
    public let endpoint: ConsoleEndpoint
    /// How to wait for a serial device that disappears; nil closes the console at end of file.
    public let reopenPolicy: ConsoleReopenPolicy?
    private let lock = NSLock()
    private var descriptor: Int32 = -1
    private var recorded = ConsoleTranscript()
    private var scanner = ConsoleScanner()
    private var waiter: Waiter?
    private var nextWaiterID: UInt64 = 0
    private var isClosed = false
    /// True while the reader waits for a vanished serial device to return.
    private var reopening = false
    /// True once a vanished serial device did not return in time.
    private var deviceLost = false
    private var stopping = false
    private var readerFinished: DispatchSemaphore?
    private var clock = BootClock()

    private struct Waiter {
        var id: UInt64
        var patterns: [ConsolePattern]
        var continuation: CheckedContinuation<ConsoleExpectation, any Error>
    }

    /// Creates a console on `endpoint`; with `reopen`, a `.serial` device that disappears is
    /// waited for and reopened instead of closing the console.
    public init(endpoint: ConsoleEndpoint, reopen: ConsoleReopenPolicy? = nil) {
        self.endpoint = endpoint
        self.reopenPolicy = reopen
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    public var transcript: ConsoleTranscript {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    public func open(clock: BootClock) async throws {
        let fd = try endpoint.openDescriptor()
        let finished = DispatchSemaphore(value: 0)
        lock.withLock {
            self.clock = clock
            descriptor = fd
            readerFinished = finished
        }
        let thread = Thread { [self] in
            readLoop(fd)
            finished.signal()
        }
        thread.name = "console \(endpoint)"
        thread.start()
    }

    private func readLoop(_ initialDescriptor: Int32) {
        var fd = initialDescriptor
        var buffer = [UInt8](repeating: 0, count: 65536)
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            lock.lock()
            let stop = stopping
            lock.unlock()
            if stop { return }
            poller.revents = 0
            // A short poll timeout lets close() stop the thread promptly.
            let ready = poll(&poller, 1, 100)
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 {
                let now = clock.nanoseconds
                lock.lock()
                recorded.append(buffer[0..<count], at: now)
                resolveWaiter()
                lock.unlock()
            } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                // EOF, or EIO when the PTY's other side closed: the board or QEMU went away.
                if let reopened = reopenAfterLoss(of: fd) {
                    fd = reopened
                    poller.fd = reopened
                    continue
                }
                lock.lock()
                isClosed = true
                if let pending = waiter {
                    waiter = nil
                    pending.continuation.resume(throwing: ConsoleError.closed(location: endpoint.description))
                }
                lock.unlock()
                return
            }
        }
    }

    /// After end of file on a `.serial` endpoint with a reopen policy: closes `fd`, polls for the
    /// device path and reopens it with the same settings, marking the gap in the transcript.
    /// Returns the new descriptor; nil when there is no policy, the console is closing, or the
    /// device did not return within the wait (the transcript then says so).
    private func reopenAfterLoss(of fd: Int32) -> Int32? {
        guard let policy = reopenPolicy, case .serial(let path, _) = endpoint else { return nil }
        let lostSeconds = clock.seconds
        let started = BootClock.monotonicNanoseconds()
        let proceed = lock.withLock {
            guard !stopping else { return false }
            reopening = true
            descriptor = -1
            return true
        }
        guard proceed else { return nil }
        Glibc.close(fd)
        let waitNanoseconds = Int64(max(0, policy.waitSeconds) * 1e9)
        let intervalNanoseconds = Int64(max(0.001, policy.pollIntervalSeconds) * 1e9)
        while true {
            if access(path, F_OK) == 0, let reopened = try? endpoint.openDescriptor() {
                let gapSeconds = Double(BootClock.monotonicNanoseconds() - started) / 1e9
                let marker = String(format: "[bootfarm: console lost at %.3f s, reopened after %.3f s]", lostSeconds, gapSeconds)
                let accepted = lock.withLock {
                    reopening = false
                    guard !stopping else { return false }
                    descriptor = reopened
                    appendMarker(marker)
                    resolveWaiter()
                    return true
                }
                if !accepted { Glibc.close(reopened) }
                return accepted ? reopened : nil
            }
            let elapsed = BootClock.monotonicNanoseconds() - started
            if elapsed >= waitNanoseconds {
                let marker = String(format: "[bootfarm: console lost at %.3f s, not back after %.3f s]", lostSeconds, Double(elapsed) / 1e9)
                lock.withLock {
                    reopening = false
                    deviceLost = true
                    appendMarker(marker)
                }
                return nil
            }
            guard sleepUnlessStopping(nanoseconds: min(intervalNanoseconds, waitNanoseconds - elapsed)) else {
                lock.withLock { reopening = false }
                return nil
            }
        }
    }

    /// Sleeps up to `nanoseconds` in slices of at most 50 ms so that close() is not held up by a
    /// long poll interval; false when the console started closing.
    private func sleepUnlessStopping(nanoseconds: Int64) -> Bool {
        let end = BootClock.monotonicNanoseconds() + nanoseconds
        while true {
            if lock.withLock({ stopping }) { return false }
            let remaining = end - BootClock.monotonicNanoseconds()
            if remaining <= 0 { return true }
            usleep(useconds_t(min(remaining, 50_000_000) / 1000))
        }
    }

    /// Appends a bootfarm note as a line of its own, stamped now. Call with the lock held.
    private func appendMarker(_ text: String) {
        let line = (recorded.lastLineOpen ? "\n" : "") + text + "\n"
        recorded.append(Array(line.utf8), at: clock.nanoseconds)
    }

    /// Resumes the waiter if its pattern is in. Call with the lock held.
    private func resolveWaiter() {
        guard let pending = waiter, let match = scanner.next(in: recorded, patterns: pending.patterns) else { return }
        waiter = nil
        pending.continuation.resume(returning: .matched(match, output: String(decoding: recorded.bytes[match.output], as: UTF8.self)))
    }

    public func expect(_ patterns: [ConsolePattern], deadline: Double) async throws -> ConsoleExpectation {
        let id: UInt64 = lock.withLock {
            nextWaiterID += 1
            return nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                lock.lock()
                defer { lock.unlock() }
                if let match = scanner.next(in: recorded, patterns: patterns) {
                    continuation.resume(returning: .matched(match, output: String(decoding: recorded.bytes[match.output], as: UTF8.self)))
                    return
                }
                if isClosed || (descriptor < 0 && !reopening) {
                    continuation.resume(throwing: ConsoleError.closed(location: endpoint.description))
                    return
                }
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                waiter = Waiter(id: id, patterns: patterns, continuation: continuation)
                let delay = max(0, deadline - clock.seconds)
                DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [weak self] in
                    self?.expire(id, with: .timedOut)
                }
            }
        } onCancel: {
            self.expire(id, with: nil)
        }
    }

    /// Ends waiter `id` if it is still waiting: with `result`, or with cancellation when nil.
    private func expire(_ id: UInt64, with result: ConsoleExpectation?) {
        lock.lock()
        defer { lock.unlock() }
        guard let pending = waiter, pending.id == id else { return }
        waiter = nil
        if let result {
            pending.continuation.resume(returning: result)
        } else {
            pending.continuation.resume(throwing: CancellationError())
        }
    }

    public func send(_ text: String, characterDelayMilliseconds: Int) async throws {
        let (fd, gone, lost) = lock.withLock { (descriptor, reopening, deviceLost) }
        guard fd >= 0 else {
            if gone {
                throw ConsoleError.writeFailed(location: endpoint.description, reason: "the device is gone; waiting for it to return")
            }
            if lost { throw ConsoleError.closed(location: endpoint.description) }
            throw ConsoleError.notOpen(location: endpoint.description)
        }
        let bytes = Array(text.utf8)
        if characterDelayMilliseconds <= 0 {
            try write(bytes, to: fd)
            return
        }
        for byte in bytes {
            try write([byte], to: fd)
            try await Task.sleep(for: .milliseconds(characterDelayMilliseconds))
        }
    }

    private func write(_ bytes: [UInt8], to fd: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
            } else if written < 0 && (errno == EAGAIN || errno == EINTR) {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                guard poll(&poller, 1, 5000) > 0 else {
                    throw ConsoleError.writeFailed(location: endpoint.description, reason: "the console accepted nothing for 5 s")
                }
            } else {
                throw ConsoleError.writeFailed(location: endpoint.description, reason: String(cString: strerror(errno)))
            }
        }
    }

    public func close() async {
        let finished: DispatchSemaphore? = lock.withLock {
            stopping = true
            return readerFinished
        }
        if let finished {
            // The reader notices `stopping` within one poll interval.
            _ = finished.wait(timeout: .now() + 2)
        }
        lock.withLock {
            if let pending = waiter {
                waiter = nil
                pending.continuation.resume(throwing: ConsoleError.closed(location: endpoint.description))
            }
            if descriptor >= 0 { Glibc.close(descriptor) }
            descriptor = -1
            readerFinished = nil
            isClosed = true
        }
    }
}
