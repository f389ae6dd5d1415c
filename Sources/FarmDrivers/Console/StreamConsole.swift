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
public final class StreamConsole: Console, @unchecked Sendable {
    /// Where the console is.
    public let endpoint: ConsoleEndpoint
    private let lock = NSLock()
    private var descriptor: Int32 = -1
    private var recorded = ConsoleTranscript()
    private var scanner = ConsoleScanner()
    private var waiter: Waiter?
    private var nextWaiterID: UInt64 = 0
    private var isClosed = false
    private var stopping = false
    private var readerFinished: DispatchSemaphore?
    private var clock = BootClock()

    private struct Waiter {
        var id: UInt64
        var patterns: [ConsolePattern]
        var continuation: CheckedContinuation<ConsoleExpectation, any Error>
    }

    public init(endpoint: ConsoleEndpoint) {
        self.endpoint = endpoint
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

    private func readLoop(_ fd: Int32) {
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
                if isClosed || descriptor < 0 {
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
        let fd = lock.withLock { descriptor }
        guard fd >= 0 else { throw ConsoleError.notOpen(location: endpoint.description) }
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
