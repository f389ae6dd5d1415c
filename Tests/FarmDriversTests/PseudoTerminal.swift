import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A PTY pair standing in for a board: the test writes board output into `master` and reads what
/// the console sends from it; the console under test opens `path`, the slave side.
final class PseudoTerminal {
    /// The board's end.
    private(set) var master: Int32
    /// The slave device, such as `/dev/pts/7`.
    let path: String
    /// Held open so the slave side exists for as long as the test needs it.
    private let slave: Int32

    init() throws {
        var master: Int32 = -1
        var slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else { throw TestIOError(operation: "openpty", code: errno) }
        guard let name = ttyname(slave) else {
            let code = errno
            Glibc.close(master)
            Glibc.close(slave)
            throw TestIOError(operation: "ttyname", code: code)
        }
        // Not handed to processes other tests start meanwhile: one holding the master open would
        // keep the console from seeing this board's end close.
        _ = fcntl(master, F_SETFD, FD_CLOEXEC)
        _ = fcntl(slave, F_SETFD, FD_CLOEXEC)
        self.master = master
        self.slave = slave
        path = String(cString: name)
    }

    deinit {
        if master >= 0 { Glibc.close(master) }
        Glibc.close(slave)
    }

    /// Writes board output.
    func write(_ bytes: [UInt8]) throws {
        try DescriptorIO.write(bytes, to: master)
    }

    /// Writes board output.
    func write(_ text: String) throws {
        try write(Array(text.utf8))
    }

    /// Reads up to `count` bytes the console sent, waiting at most `timeoutSeconds`.
    func read(count: Int, timeoutSeconds: Double = 5) -> [UInt8] {
        DescriptorIO.read(from: master, count: count, timeoutSeconds: timeoutSeconds)
    }

    /// Closes the board's end, as when QEMU exits or an adapter is unplugged.
    func closeMaster() {
        if master >= 0 { Glibc.close(master) }
        master = -1
    }
}
