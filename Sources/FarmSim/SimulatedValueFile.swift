#if canImport(Glibc)
    import Glibc
#endif

/// One value file of a simulated sensor (`power1_input` and the like), holding an integer and a
/// newline as sysfs prints it, replaced as a whole on every change so that no reader ever sees
/// half a value.
///
/// A new value is written into a spare file beside the value file (`.<name>.new`), and the two
/// are swapped in one step (`renameat2` with `RENAME_EXCHANGE`). The file swapped out is emptied
/// at once, so a reader still holding it reads nothing and opens the path again (as
/// `SensorAttributeFile` does); it is the spare for the next value. A reader that still holds
/// that spare when the next value goes into it sees it empty or whole: the file grows from
/// nothing to the whole value in one write. Where the swap is not available (a C library without
/// `renameat2`, a file system without the exchange), each value goes into a new file renamed over
/// the old one, which is then emptied and closed: about twice the cost, a new file every time.
///
/// Not thread-safe: a sensor keeps its files under its own lock.
final class SimulatedValueFile {
    /// Where readers find the value.
    let path: String
    /// Where the spare file is.
    let sparePath: String
    /// The value shown, nil while the file is absent.
    private(set) var value: Int64?
    /// The file now at `path`; -1 when there is none.
    private var visible: Int32 = -1
    /// The file at `sparePath`, empty; -1 when there is none.
    private var spare: Int32 = -1
    private var exchanges = SimulatedValueFile.renameExchange != nil

    private typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32

    /// `RENAME_EXCHANGE` from `<stdio.h>` (a GNU extension, so not in Swift's view of it).
    private static let exchangeFlag: UInt32 = 1 << 1

    /// The C library's `renameat2`, looked up by name for the same reason; nil where it is missing.
    private static let renameExchange: RenameAt2? = {
        #if os(Linux)
            guard let library = dlopen(nil, RTLD_NOW), let symbol = dlsym(library, "renameat2") else { return nil }
            return unsafeBitCast(symbol, to: RenameAt2.self)
        #else
            return nil
        #endif
    }()

    /// A value file at `path` with its spare at `sparePath`; nothing is written until `show(_:)`.
    init(path: String, sparePath: String) {
        self.path = path
        self.sparePath = sparePath
    }

    deinit {
        if visible >= 0 { close(visible) }
        if spare >= 0 { close(spare) }
    }

    /// Makes `value` the file's content; does nothing when it already is.
    func show(_ value: Int64) throws(SimulatedPowerSensor.SetupError) {
        guard value != self.value else { return }
        // "-9223372036854775808\n" is 21 bytes.
        var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
        let failure = withUnsafeMutableBytes(of: &storage) { buffer -> SimulatedPowerSensor.SetupError? in
            var start = buffer.count - 1
            buffer[start] = UInt8(ascii: "\n")
            var magnitude = value.magnitude
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "-")
            }
            do throws(SimulatedPowerSensor.SetupError) {
                try replace(with: UnsafeRawBufferPointer(rebasing: buffer[start...]))
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        self.value = value
    }

    /// Empties the file and removes it, as when the device goes away.
    func remove() {
        unlink(path)
        if visible >= 0 {
            _ = ftruncate(visible, 0)
            close(visible)
            visible = -1
        }
        if spare >= 0 {
            close(spare)
            spare = -1
        }
        unlink(sparePath)
        value = nil
    }

    private func replace(with bytes: UnsafeRawBufferPointer) throws(SimulatedPowerSensor.SetupError) {
        if exchanges, visible >= 0, let renameExchange = Self.renameExchange {
            if spare < 0 { spare = try Self.create(sparePath) }
            guard pwrite(spare, bytes.baseAddress, bytes.count, 0) == bytes.count else {
                throw SimulatedPowerSensor.SetupError(path: sparePath, reason: "short write")
            }
            if renameExchange(AT_FDCWD, sparePath, AT_FDCWD, path, Self.exchangeFlag) == 0 {
                _ = ftruncate(visible, 0)
                swap(&visible, &spare)
                return
            }
            // No exchange here (EINVAL from a file system without it): the spare, which holds
            // the new value, is renamed over the value file, and so are the next values.
            exchanges = false
            try Self.move(sparePath, over: path)
            _ = ftruncate(visible, 0)
            close(visible)
            visible = spare
            spare = -1
            return
        }
        let fd = try Self.create(sparePath)
        guard write(fd, bytes.baseAddress, bytes.count) == bytes.count else {
            close(fd)
            throw SimulatedPowerSensor.SetupError(path: sparePath, reason: "short write")
        }
        do throws(SimulatedPowerSensor.SetupError) {
            try Self.move(sparePath, over: path)
        } catch {
            close(fd)
            throw error
        }
        if visible >= 0 {
            _ = ftruncate(visible, 0)
            close(visible)
        }
        visible = fd
    }

    /// A new, empty file at `path`, open for writing.
    private static func create(_ path: String) throws(SimulatedPowerSensor.SetupError) -> Int32 {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SimulatedPowerSensor.SetupError(path: path, reason: String(cString: strerror(errno))) }
        return fd
    }

    private static func move(_ from: String, over to: String) throws(SimulatedPowerSensor.SetupError) {
        guard rename(from, to) == 0 else {
            throw SimulatedPowerSensor.SetupError(path: to, reason: String(cString: strerror(errno)))
        }
    }
}
