#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One value file of a sensor, kept open and re-read from offset 0 with `pread`: one system call
/// a value, which matters at 1000 reads a second.
///
/// A sysfs attribute produces a fresh value on every read from offset 0. A plain file standing in
/// for one (a simulated sensor, a fixture) is updated so that no reader ever sees half a value:
/// a new file is written and renamed over the old one, and the old one is then emptied. A read
/// that finds its file empty or holding no number therefore opens the path again and reads again
/// (a few times) before it fails; and every 16th read of a plain file first checks that it is still the
/// one at its path, so a replacement that did not empty the old file is picked up too. A file that fails
/// is opened again on the next read, so a meter that comes back is picked up.
///
/// Not thread-safe: a meter keeps its files under its own lock.
final class SensorAttributeFile {
    /// Where the file is.
    let path: String
    private var descriptor: Int32
    private let mayBeReplaced: Bool
    private var readsSinceCheck = 0
    private let buffer: UnsafeMutableRawBufferPointer

    /// Longest value read; sensor values are a few characters.
    private static let capacity = 64
    /// Reads of a file that came back empty or unparsable before it counts as failed: a reader
    /// delayed between opening a file and reading it can find that file already replaced and
    /// emptied again.
    private static let attempts = 4
    /// Reads of a plain file between checks that it is still the one at its path (a system call
    /// each, which at 1000 reads a second of three files is worth sparing).
    private static let readsBetweenReplacementChecks = 16

    /// Opens the file at `path`; `expected` names the files that would do, for the error when it
    /// does not exist.
    init(path: String, expected: String) throws(PowerMeterError) {
        let fd = Self.openForReading(path)
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
        try read { bytes in Self.parseInteger(bytes) }
    }

    /// The decimal number the file holds (an IIO scale such as `0.001250000`).
    func readDecimal() throws(PowerMeterError) -> Double {
        try read { bytes in
            Double(Self.text(bytes).trimmingBlanks).flatMap { $0.isFinite ? $0 : nil }
        }
    }

    /// The file's text without surrounding blanks (a chip name).
    func readText() throws(PowerMeterError) -> String {
        try read { bytes in Self.text(bytes).trimmingBlanks }
    }

    private static func text(_ bytes: UnsafeRawBufferPointer) -> String { String(decoding: bytes, as: UTF8.self) }

    /// Reads the file and parses it; an empty or unparsable read is retried on the file now at
    /// `path` (see the type's description).
    private func read<Value>(_ parse: (UnsafeRawBufferPointer) -> Value?) throws(PowerMeterError) -> Value {
        if mayBeReplaced && descriptor >= 0 {
            readsSinceCheck += 1
            if readsSinceCheck >= Self.readsBetweenReplacementChecks {
                readsSinceCheck = 0
                if Self.isUnlinked(descriptor) { closeDescriptor() }
            }
        }
        var attempts = 0
        while true {
            let count = try readIntoBuffer()
            let bytes = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            if count > 0, let value = parse(bytes) { return value }
            closeDescriptor()
            attempts += 1
            if attempts == Self.attempts {
                if count == 0 { throw .unreadable(path: path, reason: "empty") }
                throw .malformedValue(path: path, text: Self.text(bytes).trimmingBlanks)
            }
        }
    }

    /// Reads from offset 0 into the buffer, opening the file first where it is closed.
    private func readIntoBuffer() throws(PowerMeterError) -> Int {
        if descriptor < 0 {
            let fd = Self.openForReading(path)
            guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
            descriptor = fd
        }
        while true {
            let count = pread(descriptor, buffer.baseAddress, Self.capacity, 0)
            if count >= 0 { return count }
            let code = errno
            if code == EINTR { continue }
            // Drop the descriptor: a device that comes back may be a new file.
            closeDescriptor()
            throw .unreadable(path: path, reason: String(cString: strerror(code)))
        }
    }

    /// `O_NOATIME` as Linux defines it on x86 and Arm (Swift's view of the C library leaves it
    /// out): reads do not update the file's access time. On a tmpfs that update is a good part of the cost of a small read; sysfs
    /// ignores it.
    private static let noAccessTimeFlag: Int32 = 0o1_000_000

    /// Opens `path` read-only without access-time updates where the kernel allows that (the
    /// file's owner or `CAP_FOWNER`), else plainly; -1 with `errno` set when it cannot be opened.
    private static func openForReading(_ path: String) -> Int32 {
        #if os(Linux)
            let fd = open(path, O_RDONLY | O_CLOEXEC | noAccessTimeFlag)
            if fd >= 0 || errno != EPERM { return fd }
        #endif
        return open(path, O_RDONLY | O_CLOEXEC)
    }

    private func closeDescriptor() {
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
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
