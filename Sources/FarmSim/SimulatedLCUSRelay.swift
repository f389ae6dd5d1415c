import FarmDrivers
import Synchronization

/// An LCUS USB relay board on a PTY: open `devicePath` at 9600 baud and send it LCUS frames
/// (`A0`, channel, `01` close or `00` open, sum of the three & 0xFF), exactly as the real board.
///
/// Frames with a wrong checksum, a channel the board lacks or a state other than 00/01 are
/// ignored (counted in `rejectedFrameCount`). The board never answers. Call `stop()` when done.
public final class SimulatedLCUSRelay: Sendable {
    /// Relays on the board (1 to 8), numbered from 1.
    public let channelCount: Int
    private let terminal: RelayBoardTerminal
    private let onChange: @Sendable (Int, Bool) -> Void
    private let state: Mutex<State>

    private struct State {
        var closed: [Bool]
        var pending: [UInt8] = []
        var rejectedFrames = 0
        var muted = false
    }

    /// Opens the PTY and starts reading it.
    ///
    /// - Parameters:
    ///   - channelCount: relays on the board, 1 to 8 (default 8).
    ///   - onChange: called with the channel and whether its relay is now closed each time a
    ///     relay changes (not for a command that leaves it as it was), on the board's reader
    ///     thread, in the order the frames arrived; keep it short.
    /// - Throws: `ConsoleError.cannotOpen` when no PTY can be opened.
    public init(
        channelCount: Int = 8, onChange: @escaping @Sendable (_ channel: Int, _ isOn: Bool) -> Void = { _, _ in }
    ) throws {
        precondition(LCUSRelayPowerSwitch.channels.contains(channelCount), "an LCUS board has 1 to 8 relays")
        self.channelCount = channelCount
        self.onChange = onChange
        state = Mutex(State(closed: Array(repeating: false, count: channelCount)))
        terminal = try RelayBoardTerminal()
        terminal.start(name: "simulated LCUS relay \(terminal.devicePath)") { [self] bytes in
            receive(bytes)
            return []
        }
    }

    /// The PTY slave the driver opens, such as `/dev/pts/7`.
    public var devicePath: String { terminal.devicePath }

    /// Every byte received, in order (muted or not).
    public var receivedBytes: [UInt8] { terminal.received }

    /// Frames ignored so far (bad checksum, unknown channel, state not 00/01).
    public var rejectedFrameCount: Int { state.withLock { $0.rejectedFrames } }

    /// Whether relay `channel` (1-based) is closed; false for a channel the board lacks.
    public func isOn(_ channel: Int) -> Bool {
        state.withLock { (1...channelCount).contains(channel) ? $0.closed[channel - 1] : false }
    }

    /// A muted board behaves like a hung adapter: it stops taking bytes, so the driver's writes
    /// block (its command times out) until the board is unmuted.
    public var isMuted: Bool {
        get { state.withLock { $0.muted } }
        set {
            state.withLock { $0.muted = newValue }
            terminal.holdDriverOutput(newValue)
        }
    }

    /// Stops reading and closes the PTY; the device path disappears.
    public func stop() {
        terminal.stop()
    }

    /// Parses frames from the byte stream, resynchronising on the next `A0` after a bad one.
    private func receive(_ bytes: [UInt8]) {
        let changes: [(Int, Bool)] = state.withLock { state in
            guard !state.muted else { return [] }
            state.pending += bytes
            var changes: [(Int, Bool)] = []
            while let start = state.pending.firstIndex(of: 0xA0) {
                state.pending.removeSubrange(..<start)
                guard state.pending.count >= 4 else { break }
                let frame = Array(state.pending.prefix(4))
                let channel = Int(frame[1])
                let valid =
                    frame[3] == frame[0] &+ frame[1] &+ frame[2] && frame[2] <= 1 && (1...channelCount).contains(channel)
                guard valid else {
                    state.rejectedFrames += 1
                    state.pending.removeFirst()
                    continue
                }
                state.pending.removeFirst(4)
                let closed = frame[2] == 1
                if state.closed[channel - 1] != closed {
                    state.closed[channel - 1] = closed
                    changes.append((channel, closed))
                }
            }
            if state.pending.first != 0xA0 { state.pending.removeAll() }
            return changes
        }
        for (channel, closed) in changes { onChange(channel, closed) }
    }
}
