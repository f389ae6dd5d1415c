#if canImport(Glibc)
    import Glibc
#endif

/// The UART of a scripted board: a PTY whose master the scheduler writes the board's output to,
/// and whose slave a reader opens through a link at the lab's console path.
///
/// The simulator keeps the slave open as well, so a reader closing its side never hangs the PTY
/// up (the master would then poll as hung up, over and over).
struct ScriptedConsolePort: Sendable {
    /// The board's end, non-blocking.
    let master: Int32
    /// Held open for the port's whole life.
    let slave: Int32
    /// The slave device, such as `/dev/pts/7`.
    let devicePath: String

    /// Opens a raw PTY and points the symbolic link `link` at its slave (replacing what was there).
    static func open(linkedAt link: String) throws(SimulationError) -> ScriptedConsolePort {
        var master: Int32 = -1
        var slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else {
            throw .cannotCreate(what: "console PTY", path: link, reason: String(cString: strerror(errno)))
        }
        guard let name = ttyname(slave) else {
            let reason = String(cString: strerror(errno))
            Glibc.close(master)
            Glibc.close(slave)
            throw .cannotCreate(what: "console PTY", path: link, reason: reason)
        }
        let port = ScriptedConsolePort(master: master, slave: slave, devicePath: String(cString: name))
        RelayBoardTerminal.prepare(master: master, slave: slave)
        unlink(link)
        guard symlink(port.devicePath, link) == 0 else {
            let reason = String(cString: strerror(errno))
            port.close()
            throw .cannotCreate(what: "console link", path: link, reason: reason)
        }
        return port
    }

    /// Drops what the board printed that no reader has read yet, as a USB-serial adapter discards
    /// what arrives while its port is closed.
    func discardUnread() {
        tcflush(slave, TCIFLUSH)
    }

    /// Closes both ends: a reader's next read gets end of file or EIO, and the device disappears.
    func close() {
        Glibc.close(master)
        Glibc.close(slave)
    }
}
