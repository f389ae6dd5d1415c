import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The reader's side of a simulated board's console: opens the device raw, as a console driver
/// does, types into it, and waits for text like a boot script.
final class SerialConsoleReader {
    private let descriptor: Int32
    /// Everything received so far.
    private(set) var received: [UInt8] = []
    /// Where the next `waitFor` starts searching (the end of the previous match).
    private var consumed = 0
    /// True once a read gave end of file or EIO: the board's side went away.
    private(set) var isHungUp = false

    init(path: String) throws {
        descriptor = try Self.openRaw(path)
    }

    /// Opens a tty non-blocking and raw, as a driver would.
    static func openRaw(_ path: String) throws -> Int32 {
        let descriptor = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var settings = termios()
        tcgetattr(descriptor, &settings)
        cfmakeraw(&settings)
        tcsetattr(descriptor, TCSANOW, &settings)
        return descriptor
    }

    deinit { Glibc.close(descriptor) }

    /// What was received, as text.
    var text: String { String(decoding: received, as: UTF8.self) }

    /// Types `text`.
    func type(_ text: String) throws {
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    }

    /// Reads until `text` arrives after the previous match; returns what arrived from there up to
    /// and including `text`, or nil after `timeoutSeconds` (or when the board's side went away).
    func waitFor(_ text: String, timeoutSeconds: Double = 10) -> String? {
        let needle = Array(text.utf8)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while true {
            if let end = Self.find(needle, in: received, from: consumed) {
                let output = String(decoding: received[consumed..<end], as: UTF8.self)
                consumed = end
                return output
            }
            guard Date() < deadline, !isHungUp else { return nil }
            readAvailable(waitingMilliseconds: 20)
        }
    }

    /// Makes the next `waitFor` search only what arrives from now on.
    func skipReceived() {
        consumed = received.count
    }

    /// Reads whatever arrives during `seconds`; returns those bytes.
    @discardableResult
    func readFor(seconds: Double) -> [UInt8] {
        let start = received.count
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && !isHungUp { readAvailable(waitingMilliseconds: 20) }
        return Array(received[start...])
    }

    /// Reads until nothing has arrived for `quietSeconds` (at most `timeoutSeconds` in all).
    func readUntilQuiet(quietSeconds: Double, timeoutSeconds: Double = 10) {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var lastArrival = Date()
        while Date() < deadline && !isHungUp && Date().timeIntervalSince(lastArrival) < quietSeconds {
            let before = received.count
            readAvailable(waitingMilliseconds: 20)
            if received.count > before { lastArrival = Date() }
        }
    }

    private func readAvailable(waitingMilliseconds: Int32) {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, waitingMilliseconds) > 0 else { return }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        if count > 0 {
            received += buffer[0..<count]
        } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
            isHungUp = true
        }
    }

    /// The end of the first occurrence of `needle` in `bytes` at or after `from`.
    private static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, bytes.count - from >= needle.count else { return nil }
        for start in from...(bytes.count - needle.count) where bytes[start] == needle[0] {
            if bytes[start..<(start + needle.count)].elementsEqual(needle) { return start + needle.count }
        }
        return nil
    }
}
