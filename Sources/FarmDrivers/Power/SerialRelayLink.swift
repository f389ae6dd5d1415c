import FarmCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Command exchanges with relay boards on serial devices (LCUS, Numato): each exchange opens the
/// device raw, writes, optionally reads an answer, and closes it, all before one deadline; failed
/// exchanges are retried a bounded number of times.
///
/// Opening the device for every exchange survives the adapter being unplugged and re-enumerated
/// between commands, and a relay is switched a few times per boot, so the cost does not matter.
enum SerialRelayLink {
    /// Why one exchange failed; `run` turns the last one into a `PowerError` naming the switch.
    enum Failure: Error, Sendable {
        /// The device could not be opened or set to raw mode.
        case cannotOpen(reason: String)
        /// Nothing moved before the deadline; `phase` says what was waited for.
        case timedOut(phase: String)
        /// Reading or writing failed, or the device went away.
        case ioFailed(reason: String)
        /// The board answered something its protocol does not allow.
        case unexpectedAnswer(String)
    }

    /// Pause between a failed attempt and the next, in milliseconds. Long enough for a firmware that
    /// was mid-line to give up on it, short enough not to matter next to the timeouts.
    static let retryPauseMilliseconds = 50

    /// Runs `exchange` on `device` (raw, `baud`) up to `1 + retries` times, each attempt bounded by
    /// `timeoutSeconds`, and returns the first success.
    ///
    /// - Parameters:
    ///   - subject: names the switch and the command for error messages, such as
    ///     `LCUS relay 'dut-1' (/dev/ttyUSB0 channel 1): power on`.
    /// - Throws: `PowerError.timeout` when the last attempt timed out, `PowerError.unexpectedAnswer`
    ///   for any other failure; both carry `subject` and the number of attempts.
    static func run<Value: Sendable>(
        device: String, baud: Int, timeoutSeconds: Double, retries: Int, subject: String,
        _ exchange: @escaping @Sendable (Connection) throws(Failure) -> Value
    ) async throws -> Value {
        let attempts = retries + 1
        var lastFailure = Failure.ioFailed(reason: "not attempted")
        for attempt in 1...attempts {
            try Task.checkCancellation()
            if attempt > 1 { try await Task.sleep(for: .milliseconds(retryPauseMilliseconds)) }
            do {
                return try await perform(device: device, baud: baud, timeoutSeconds: timeoutSeconds, exchange)
            } catch {
                lastFailure = error
            }
        }
        let tries = attempts == 1 ? "1 attempt" : "\(attempts) attempts"
        switch lastFailure {
        case .timedOut(let phase):
            throw PowerError.timeout(what: "\(subject): \(phase) (\(tries))", seconds: timeoutSeconds)
        case .cannotOpen(let reason):
            throw PowerError.unexpectedAnswer(what: "\(subject) (\(tries))", answer: "cannot open \(device): \(reason)")
        case .ioFailed(let reason):
            throw PowerError.unexpectedAnswer(what: "\(subject) (\(tries))", answer: reason)
        case .unexpectedAnswer(let answer):
            throw PowerError.unexpectedAnswer(what: "\(subject) (\(tries))", answer: answer)
        }
    }

    /// One attempt, on the device's own queue.
    private static func perform<Value: Sendable>(
        device: String, baud: Int, timeoutSeconds: Double,
        _ exchange: @escaping @Sendable (Connection) throws(Failure) -> Value
    ) async throws(Failure) -> Value {
        let result: Result<Value, Failure> = await withCheckedContinuation { continuation in
            queue(for: device).async {
                // The clock starts once the device is free: waiting behind another channel's
                // command does not count against this one.
                let deadline = BootClock.monotonicNanoseconds() + Int64(timeoutSeconds * 1e9)
                continuation.resume(
                    returning: Result { () throws(Failure) -> Value in
                        let connection = try Connection(device: device, baud: baud, deadlineNanoseconds: deadline)
                        do throws(Failure) {
                            let value = try exchange(connection)
                            connection.close(discardingOutput: false)
                            return value
                        } catch {
                            connection.close(discardingOutput: true)
                            throw error
                        }
                    })
            }
        }
        return try result.get()
    }

    /// One serial queue per device (symbolic links resolved): switches on different channels of
    /// one board share its device, and a command and its answer must not interleave with another's.
    /// The queue also keeps the blocking waits off Swift's cooperative pool.
    private static let queues = Mutex<[String: DispatchQueue]>([:])

    private static func queue(for device: String) -> DispatchQueue {
        let key = URL(fileURLWithPath: device).resolvingSymlinksInPath().path
        return queues.withLock { queues in
            if let queue = queues[key] { return queue }
            let queue = DispatchQueue(label: "relay \(key)")
            queues[key] = queue
            return queue
        }
    }

    /// The device opened for one exchange, with the exchange's deadline.
    struct Connection: Sendable {
        /// The raw, non-blocking descriptor.
        let descriptor: Int32
        /// CLOCK_MONOTONIC nanoseconds by which the exchange must be over.
        let deadlineNanoseconds: Int64

        init(device: String, baud: Int, deadlineNanoseconds: Int64) throws(Failure) {
            do {
                descriptor = try ConsoleEndpoint.serial(path: device, baud: baud).openDescriptor()
            } catch {
                switch error {
                case .cannotOpen(_, let reason): throw .cannotOpen(reason: reason)
                default: throw .cannotOpen(reason: error.description)
                }
            }
            self.deadlineNanoseconds = deadlineNanoseconds
        }

        /// Milliseconds left before the deadline (0 once it passed).
        private var remainingMilliseconds: Int32 {
            let left = (deadlineNanoseconds - BootClock.monotonicNanoseconds()) / 1_000_000
            return Int32(clamping: max(0, left))
        }

        /// Drops whatever the board sent before this exchange (late answers, a prompt printed at
        /// power-up), so the answer read next belongs to the command written next.
        func discardInput() {
            tcflush(descriptor, TCIFLUSH)
        }

        /// Writes every byte, then waits until the adapter has sent them, all before the deadline.
        func write(_ bytes: [UInt8]) throws(Failure) {
            var offset = 0
            while offset < bytes.count {
                let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
                if written > 0 {
                    offset += written
                    continue
                }
                let code = errno
                guard written < 0, code == EAGAIN || code == EINTR else {
                    throw .ioFailed(reason: "write failed: \(String(cString: strerror(code)))")
                }
                var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                let wait = remainingMilliseconds
                if wait == 0 || (poll(&poller, 1, wait) == 0 && remainingMilliseconds == 0) {
                    throw .timedOut(phase: "the adapter accepted \(offset) of \(bytes.count) bytes")
                }
            }
            // A USB adapter buffers what it accepted; wait for its queue to empty (bounded, unlike
            // tcdrain) so a hung adapter is a timeout here rather than a close() that blocks.
            while true {
                var pending: Int32 = 0
                guard ioctl(descriptor, UInt(TIOCOUTQ), &pending) == 0, pending > 0 else { return }
                guard remainingMilliseconds > 0 else {
                    throw .timedOut(phase: "the adapter did not send \(pending) buffered bytes")
                }
                usleep(1000)
            }
        }

        /// Reads until `terminator` arrives and returns what came before it (bytes after it are
        /// dropped), or throws when the deadline passes first.
        func read(through terminator: UInt8, waitingFor phase: String) throws(Failure) -> [UInt8] {
            var received: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 256)
            while true {
                let wait = remainingMilliseconds
                guard wait > 0 else {
                    let heard = received.isEmpty ? "nothing" : SerialRelayLink.printable(received)
                    throw .timedOut(phase: "\(phase); heard \(heard)")
                }
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                let ready = poll(&poller, 1, wait)
                if ready < 0 && errno == EINTR { continue }
                guard ready > 0 else { continue }
                let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count > 0 {
                    let chunk = buffer[0..<count]
                    if let end = chunk.firstIndex(of: terminator) {
                        return received + chunk[..<end]
                    }
                    received += chunk
                } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                    continue
                } else {
                    // EOF or EIO: the adapter was unplugged.
                    let reason = count == 0 ? "end of file" : String(cString: strerror(errno))
                    throw .ioFailed(reason: "the device went away while \(phase): \(reason)")
                }
            }
        }

        /// Closes the device; after a failure, first drops unsent output so close() cannot block on
        /// a hung adapter.
        func close(discardingOutput: Bool) {
            if discardingOutput { tcflush(descriptor, TCIOFLUSH) }
            Glibc.close(descriptor)
        }
    }

    /// `bytes` for a message: printable ASCII as is, CR and LF as `\r` and `\n`, anything else as
    /// `\xNN`; cut after 80 bytes.
    static func printable(_ bytes: some Collection<UInt8>) -> String {
        var text = "\""
        for byte in bytes.prefix(80) {
            switch byte {
            case 0x0D: text += "\\r"
            case 0x0A: text += "\\n"
            case 0x22: text += "\\\""
            case 0x5C: text += "\\\\"
            case 0x20...0x7E: text.append(Character(Unicode.Scalar(byte)))
            default: text += "\\x" + hex(byte)
            }
        }
        return text + (bytes.count > 80 ? "\"…" : "\"")
    }

    /// Two upper-case hex digits.
    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }
}
