import FarmDrivers
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The USB-serial side of a simulated relay board: a PTY whose slave a driver opens as the
/// board's device, and a reader thread that records every byte the driver sends and hands it to
/// the board's protocol, writing back whatever the protocol answers.
final class RelayBoardTerminal: Sendable {
    /// The slave device the driver opens, such as `/dev/pts/7`.
    let devicePath: String
    /// The board's end.
    private let master: Int32
    /// Held open for the board's whole life, so the driver closing its side never hangs up the
    /// PTY, and so the board can stop the driver's output (`holdDriverOutput`).
    private let slave: Int32
    /// Written by `stop()` to wake the reader out of `poll` at once.
    private let wakeWrite: Int32
    private let wakeRead: Int32
    private let readerFinished = DispatchSemaphore(value: 0)
    private let state = Mutex(State())

    private struct State {
        var received: [UInt8] = []
        var started = false
        var stopped = false
    }

    /// Opens a PTY in raw mode (no echo, no line discipline, so bytes pass as they are).
    init() throws(ConsoleError) {
        var master: Int32 = -1
        var slave: Int32 = -1
        guard openpty(&master, &slave, nil, nil, nil) == 0 else {
            throw .cannotOpen(location: "new pseudo-terminal", reason: String(cString: strerror(errno)))
        }
        var pipeEnds: [Int32] = [-1, -1]
        guard let name = ttyname(slave), pipe(&pipeEnds) == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(master)
            Glibc.close(slave)
            throw .cannotOpen(location: "new pseudo-terminal", reason: reason)
        }
        Self.prepare(master: master, slave: slave)
        for descriptor in pipeEnds { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        self.master = master
        self.slave = slave
        devicePath = String(cString: name)
        wakeRead = pipeEnds[0]
        wakeWrite = pipeEnds[1]
    }

    /// Every byte the driver sent, in order.
    var received: [UInt8] { state.withLock { $0.received } }

    /// Starts the reader thread: each chunk the driver sends is recorded, then passed to `handle`,
    /// whose answer goes back to the driver. `handle` runs on that thread only, one chunk at a time.
    func start(name: String, handle: @escaping @Sendable ([UInt8]) -> [UInt8]) {
        let begin = state.withLock { state in
            guard !state.started, !state.stopped else { return false }
            state.started = true
            return true
        }
        guard begin else { return }
        let thread = Thread { [self] in
            readLoop(handle)
            readerFinished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops (`true`) or resumes the driver's output, as a USB adapter that stopped taking data
    /// would: the driver's writes block until it is resumed.
    func holdDriverOutput(_ hold: Bool) {
        // Under the lock, so a concurrent stop() cannot close the descriptor (and the number be
        // reused by another terminal) between the check and the call.
        state.withLock { state in
            if !state.stopped { tcflow(slave, hold ? TCOOFF : TCOON) }
        }
    }

    /// Stops the reader and closes the PTY (its device disappears). Safe to call twice.
    func stop() {
        let wasStarted: Bool? = state.withLock { state in
            guard !state.stopped else { return nil }
            state.stopped = true
            return state.started
        }
        guard let wasStarted else { return }
        var byte: UInt8 = 1
        _ = Glibc.write(wakeWrite, &byte, 1)
        if wasStarted {
            // The reader wakes on the pipe at once; the bound only guards against a handler stuck
            // in a callback.
            _ = readerFinished.wait(timeout: .now() + 5)
        }
        for descriptor in [master, slave, wakeRead, wakeWrite] { Glibc.close(descriptor) }
    }

    private func readLoop(_ handle: @Sendable ([UInt8]) -> [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var pollers = [
            pollfd(fd: master, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            pollers[0].revents = 0
            pollers[1].revents = 0
            let ready = poll(&pollers, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0, pollers[1].revents == 0 else { return }
            let count = buffer.withUnsafeMutableBytes { Glibc.read(master, $0.baseAddress, $0.count) }
            if count > 0 {
                let chunk = Array(buffer[0..<count])
                state.withLock { $0.received += chunk }
                let answer = handle(chunk)
                if !answer.isEmpty { send(answer) }
            } else if count < 0 && (errno == EAGAIN || errno == EINTR) {
                continue
            } else {
                return
            }
        }
    }

    /// Writes an answer to the driver. The slave's input queue holds a few KiB; when a driver
    /// stops reading and it fills, the rest is dropped, as a real board's would be.
    private func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(master, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
            } else if written < 0 && (errno == EAGAIN || errno == EINTR) {
                var poller = pollfd(fd: master, events: Int16(POLLOUT), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { return }
            } else {
                return
            }
        }
    }
}

extension RelayBoardTerminal {
    /// Makes a new PTY pair behave like a device: raw on the device's side (nothing typed is
    /// echoed by the line discipline, bytes pass unchanged), the simulator's end non-blocking,
    /// and neither inherited by child processes.
    static func prepare(master: Int32, slave: Int32) {
        var settings = termios()
        tcgetattr(slave, &settings)
        cfmakeraw(&settings)
        tcsetattr(slave, TCSANOW, &settings)
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
        _ = fcntl(master, F_SETFD, FD_CLOEXEC)
        _ = fcntl(slave, F_SETFD, FD_CLOEXEC)
    }
}
