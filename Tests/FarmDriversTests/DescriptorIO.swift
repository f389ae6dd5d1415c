import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Blocking-with-deadline reads and writes on the test's own side of a PTY or socket.
enum DescriptorIO {
    /// Writes every byte of `bytes` to `descriptor`.
    static func write(_ bytes: [UInt8], to descriptor: Int32) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
            } else if written < 0 && (errno == EAGAIN || errno == EINTR) {
                var poller = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                _ = poll(&poller, 1, 100)
            } else {
                throw TestIOError(operation: "write", code: errno)
            }
        }
    }

    /// Reads until `count` bytes arrived or `timeoutSeconds` passed; returns what arrived.
    static func read(from descriptor: Int32, count: Int, timeoutSeconds: Double = 5) -> [UInt8] {
        var received: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while received.count < count {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { break }
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(remaining * 1000) + 1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { break }
            let wanted = min(buffer.count, count - received.count)
            let got = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, wanted) }
            if got > 0 {
                received += buffer[0..<got]
            } else if got < 0 && (errno == EAGAIN || errno == EINTR) {
                continue
            } else {
                break
            }
        }
        return received
    }
}

/// A system call of the test's own plumbing failed.
struct TestIOError: Error, CustomStringConvertible {
    var operation: String
    var code: Int32
    var description: String { "\(operation): \(String(cString: strerror(code)))" }
}
