#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One value file of a sensor, kept open and re-read from offset 0 with `pread`: one system call
/// a value, which matters at 1000 reads a second.
///
/// A sysfs attribute produces a fresh value on every read from offset 0. A plain file standing in
/// for one (a simulated sensor, a fixture) is updated by writing a new file and renaming it over
/// the old, so a reader never sees half a value; for such files each read first checks that the
/// open file is still the one at `path` and opens it again when it was replaced. A file that
/// fails is closed and opened again on the next read, so a meter that comes back is picked up.
///
/// Not thread-safe: a meter keeps its files under its own lock.
final class SensorAttributeFile {
    /// Where the file is.
    let path: String
    private var descriptor: Int32
    private let mayBeReplaced: Bool
    private let buffer: UnsafeMutableRawBufferPointer

    /// Longest value read; sensor values are a few characters.
    private static let capacity = 64

    /// Opens the file at `path`; `expected` names the files that would do, for the error when it
    /// does not exist.
    init(path: String, expected: String) throws(PowerMeterError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw .missingFile(path: path, expected: expected) }
            throw .unreadable(path: path, reason: String(cString: strerror(code)))
        }
        self.path = path
        descriptor = fd
        mayBeReplaced = !Self.isOnSysfs(fd)
        buffer = .allocate(byteCount: Self.capacity, alignment: 1)
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        buffer.deallocate()
    }

    /// Whether something exists at `path`.
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Whether `path` is a directory.
    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The integer the file holds: optional blanks, an optional sign, digits, then blanks or a
    /// newline.
    func readInteger() throws(PowerMeterError) -> Int64 {
        let count = try readIntoBuffer()
        let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
        guard let value = Self.parseInteger(bytes) else { throw .malformedValue(path: path, text: text(count).trimmingBlanks) }
        return value
    }

    /// The decimal number the file holds (an IIO scale such as `0.001250000`).
    func readDecimal() throws(PowerMeterError) -> Double {
        let count = try readIntoBuffer()
        let trimmed = text(count).trimmingBlanks
        guard let value = Double(trimmed), value.isFinite else { throw .malformedValue(path: path, text: trimmed) }
        return value
    }

    /// The file's text without surrounding blanks (a chip name).
    func readText() throws(PowerMeterError) -> String {
        text(try readIntoBuffer()).trimmingBlanks
    }

    private func text(_ count: Int) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: buffer[0..<count]), as: UTF8.self)
    }

    private func readIntoBuffer() throws(PowerMeterError) -> Int {
        if descriptor >= 0 && mayBeReplaced && Self.isUnlinked(descriptor) {
            close(descriptor)
            descriptor = -1
        }
        if descriptor < 0 {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            descriptor = fd
        }
        while true {
            let count = pread(descriptor, buffer.baseAddress, Self.capacity, 0)
            if count > 0 { return count }
            if count < 0 && errno == EINTR { continue }
            let reason = count == 0 ? "empty" : String(cString: strerror(errno))
            // Drop the descriptor: a device that comes back may be a new file.
            close(descriptor)
            descriptor = -1
            throw .unreadable(path: path, reason: reason)
        }
    }

    private static func isUnlinked(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && info.st_nlink == 0
    }

    /// Whether the open file lives on the sysfs mounted at /sys (one file system, one device; an
    /// unmounted /sys is a plain folder on the root file system).
    private static func isOnSysfs(_ fd: Int32) -> Bool {
        var file = stat()
        var sysfs = stat()
        var root = stat()
        guard fstat(fd, &file) == 0, stat("/sys", &sysfs) == 0, stat("/", &root) == 0 else { return false }
        return file.st_dev == sysfs.st_dev && sysfs.st_dev != root.st_dev
    }

    static func parseInteger(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        var index = 0
        let count = bytes.count
        while index < count && isBlank(bytes[index]) { index += 1 }
        var negative = false
        if index < count && (bytes[index] == UInt8(ascii: "-") || bytes[index] == UInt8(ascii: "+")) {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        let firstDigit = index
        var value: Int64 = 0
        while index < count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            let digit = Int64(bytes[index] - UInt8(ascii: "0"))
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowAgain) = shifted.addingReportingOverflow(digit)
            guard !overflow && !overflowAgain else { return nil }
            value = sum
            index += 1
        }
        guard index > firstDigit else { return nil }
        while index < count && (isBlank(bytes[index]) || bytes[index] == 0) { index += 1 }
        guard index == count else { return nil }
        return negative ? -value : value
    }

    private static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
}

extension String {
    /// The string without leading and trailing spaces, tabs and line ends.
    fileprivate var trimmingBlanks: String {
        let blanks: Set<Character> = [" ", "\n", "\t", "\r", "\0", "\r\n"]
        guard let first = firstIndex(where: { !blanks.contains($0) }),
            let last = lastIndex(where: { !blanks.contains($0) })
        else { return "" }
        return String(self[first...last])
    }
}
