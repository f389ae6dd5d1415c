import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs any number of scripted boards on one thread.
///
/// The thread waits in one `poll()` over every board's PTY master (for typed bytes) and a wake-up
/// pipe (for power changes and new boards). While some board prints or counts down, the wait ends
/// every 10 ms, and each printing board gets the next chunk of its output: as many bytes as a
/// 115200-baud UART carries in the time since the last chunk (about 115). With nothing to print it
/// sleeps until something happens, so idle boards cost no CPU. Call `stop()` when done.
public final class ScriptedBoardScheduler: Sendable {
    /// Bytes a 115200-baud UART carries per second (10 bits a byte: start, 8 data, stop).
    public static let bytesPerSecond = 11_520
    /// Seconds between two chunks of a printing board's output.
    static let tickSeconds = 0.01
    /// The longest catch-up after the thread was held up: a stall delays output instead of
    /// bursting it.
    static let maximumCatchUpSeconds = 0.1

    private let state = Mutex(State())
    /// Written to wake the thread out of `poll()`; both ends are non-blocking.
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let finished = DispatchSemaphore(value: 0)

    private struct Slot {
        var port: ScriptedConsolePort?
        var consoleLink: String
        var firmware: ScriptedFirmware
        var removed = false
    }

    private struct State {
        var slots: [Slot] = []
        var stopped = false
        /// When the last chunk went out; nil while no board needs the clock.
        var lastTickSeconds: Double?
        /// The fraction of a byte each printing board was owed at the last chunk.
        var owedBytes = 0.0
    }

    /// Starts the scheduler's thread.
    /// - Throws: `SimulationError.cannotCreate` when the wake-up pipe cannot be made.
    public init() throws(SimulationError) {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else {
            throw .cannotCreate(what: "scheduler wake-up pipe", path: "", reason: String(cString: strerror(errno)))
        }
        for end in ends {
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
        }
        wakeRead = ends[0]
        wakeWrite = ends[1]
        let thread = Thread { [self] in
            loop()
            finished.signal()
        }
        thread.name = "scripted boards"
        thread.start()
    }

    /// Stops the thread, closes every board's PTY and removes its console link. Safe to call twice.
    public func stop() {
        let ports: [(ScriptedConsolePort?, String)]? = state.withLock { state in
            guard !state.stopped else { return nil }
            wake()
            state.stopped = true
            let open = state.slots.filter { !$0.removed }.map { ($0.port, $0.consoleLink) }
            for index in state.slots.indices { state.slots[index].removed = true }
            return open
        }
        guard let ports else { return }
        // The thread wakes on the pipe at once; the bound only guards against a stuck write.
        _ = finished.wait(timeout: .now() + 5)
        for (port, link) in ports {
            port?.close()
            unlink(link)
        }
        close(wakeRead)
        close(wakeWrite)
    }

    // MARK: Boards

    /// Adds a board whose console is linked at `consoleLink`; returns its slot number.
    func add(consoleLink: String, firmware: ScriptedFirmware) throws(SimulationError) -> Int {
        let port = try ScriptedConsolePort.open(linkedAt: consoleLink)
        let index: Int? = state.withLock { state in
            guard !state.stopped else { return nil }
            state.slots.append(Slot(port: port, consoleLink: consoleLink, firmware: firmware))
            wake()
            return state.slots.count - 1
        }
        guard let index else {
            port.close()
            unlink(consoleLink)
            throw .cannotCreate(what: "scripted board", path: consoleLink, reason: "the scheduler is stopped")
        }
        return index
    }

    /// Switches board `index` on or off; switching it to the state it is in does nothing.
    func setPower(_ index: Int, on: Bool) {
        state.withLock { state in
            guard state.slots.indices.contains(index), !state.slots[index].removed else { return }
            let isOn = state.slots[index].firmware.phase != .off
            guard isOn != on else { return }
            if state.slots[index].port == nil {
                // A console adapter that went away comes back when the board's power switches.
                reconnect(&state.slots[index])
            }
            if on {
                state.slots[index].port?.discardUnread()
                state.slots[index].firmware.powerOn()
            } else {
                state.slots[index].firmware.powerOff()
            }
            wake()
        }
    }

    /// Whether board `index` is powered.
    func isPowered(_ index: Int) -> Bool {
        state.withLock { state in
            state.slots.indices.contains(index) && !state.slots[index].removed && state.slots[index].firmware.phase != .off
        }
    }

    /// The slave device of board `index`'s current PTY.
    func devicePath(_ index: Int) -> String? {
        state.withLock { state in
            state.slots.indices.contains(index) && !state.slots[index].removed ? state.slots[index].port?.devicePath : nil
        }
    }

    /// Powers board `index` off, closes its PTY and removes its console link.
    func remove(_ index: Int) {
        let taken: (ScriptedConsolePort?, String)? = state.withLock { state in
            guard state.slots.indices.contains(index), !state.slots[index].removed else { return nil }
            state.slots[index].removed = true
            state.slots[index].firmware.powerOff()
            let port = state.slots[index].port
            state.slots[index].port = nil
            wake()
            return (port, state.slots[index].consoleLink)
        }
        guard let (port, link) = taken else { return }
        port?.close()
        unlink(link)
    }

    // MARK: Thread

    /// Wakes the thread out of `poll()`. Called with the lock held and the scheduler not yet
    /// stopped, so the pipe is still open.
    private func wake() {
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
    }

    private func loop() {
        var pollers: [pollfd] = []
        var owners: [Int] = []
        var input = [UInt8](repeating: 0, count: 1024)
        var output: [UInt8] = []
        output.reserveCapacity(1024)
        while true {
            pollers.removeAll(keepingCapacity: true)
            owners.removeAll(keepingCapacity: true)
            pollers.append(pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0))
            let timeoutMilliseconds: Int32? = state.withLock { state in
                guard !state.stopped else { return nil }
                var needsTick = false
                for index in state.slots.indices where !state.slots[index].removed {
                    if let port = state.slots[index].port {
                        pollers.append(pollfd(fd: port.master, events: Int16(POLLIN), revents: 0))
                        owners.append(index)
                    }
                    if state.slots[index].firmware.needsTick { needsTick = true }
                }
                guard needsTick else {
                    state.lastTickSeconds = nil
                    return -1
                }
                guard let last = state.lastTickSeconds else { return 0 }
                let wait = last + Self.tickSeconds - Self.monotonicSeconds()
                return wait <= 0 ? 0 : Int32((wait * 1000).rounded(.up))
            }
            guard let timeoutMilliseconds else { return }
            let ready = poll(&pollers, nfds_t(pollers.count), timeoutMilliseconds)
            if ready < 0 && errno != EINTR { usleep(10_000) }
            let now = Self.monotonicSeconds()
            if pollers[0].revents != 0 { drainWakePipe() }
            state.withLock { state in
                guard !state.stopped else { return }
                for (position, index) in owners.enumerated() where pollers[position + 1].revents & Int16(POLLIN) != 0 {
                    guard let port = state.slots[index].port, port.master == pollers[position + 1].fd else { continue }
                    while true {
                        let count = input.withUnsafeMutableBytes { read(port.master, $0.baseAddress, $0.count) }
                        guard count > 0 else { break }
                        state.slots[index].firmware.receive(input[0..<count])
                    }
                }
                tick(&state, at: now, buffer: &output)
            }
        }
    }

    /// Sends each printing board its next chunk, when a chunk is due.
    private func tick(_ state: inout State, at now: Double, buffer: inout [UInt8]) {
        let last = state.lastTickSeconds ?? (now - Self.tickSeconds)
        // Typed bytes can wake the thread between two chunks; they are answered at the next one.
        guard now - last >= Self.tickSeconds * 0.95 else { return }
        state.owedBytes += min(now - last, Self.maximumCatchUpSeconds) * Double(Self.bytesPerSecond)
        let budget = Int(state.owedBytes)
        state.owedBytes -= Double(budget)
        state.lastTickSeconds = now
        for index in state.slots.indices where !state.slots[index].removed {
            state.slots[index].firmware.advance(at: now)
            if let port = state.slots[index].port, state.slots[index].firmware.hasOutput {
                buffer.removeAll(keepingCapacity: true)
                state.slots[index].firmware.takeOutput(maximumByteCount: budget, into: &buffer)
                // A full PTY (nobody reading) drops the rest, as a UART without flow control does.
                _ = buffer.withUnsafeBytes { write(port.master, $0.baseAddress, $0.count) }
            }
            if state.slots[index].firmware.wantsDisconnect {
                disconnect(&state.slots[index])
            }
        }
    }

    /// The console adapter went away: the PTY closes (its reader gets end of file or EIO) and the
    /// console link disappears.
    private func disconnect(_ slot: inout Slot) {
        slot.port?.close()
        slot.port = nil
        unlink(slot.consoleLink)
        slot.firmware.consoleDisconnected()
    }

    /// The console adapter is back: a new PTY is linked at the console path.
    private func reconnect(_ slot: inout Slot) {
        do {
            slot.port = try ScriptedConsolePort.open(linkedAt: slot.consoleLink)
        } catch {
            FileHandle.standardError.write(Data("sim: \(slot.consoleLink): console not reconnected: \(error)\n".utf8))
        }
    }

    private func drainWakePipe() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while bytes.withUnsafeMutableBytes({ read(wakeRead, $0.baseAddress, $0.count) }) > 0 {}
    }

    /// Seconds on the monotonic clock.
    static func monotonicSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
