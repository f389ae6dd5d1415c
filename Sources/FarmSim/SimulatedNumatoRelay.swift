import FarmDrivers
import Synchronization

/// A Numato USB relay module on a PTY: open `devicePath` and type commands as to the real module.
///
/// The module echoes every character as it arrives (a carriage return as `\n\r`), runs the line,
/// prints its answer lines each followed by `\n\r`, and then the `>` prompt. It knows
/// `relay on N`, `relay off N` and `relay read N` (answering `on` or `off`), with N written as
/// `0`…`9` then `A`…`V`; any other line, or a relay it lacks, gets the prompt alone. Line feeds
/// are ignored. Commands naming a muted channel (`mutedChannels`) are echoed but never answered.
/// Call `stop()` when done.
public final class SimulatedNumatoRelay: Sendable {
    /// Relays on the module (1 to 32), numbered from 0.
    public let channelCount: Int
    private let terminal: RelayBoardTerminal
    private let onChange: @Sendable (Int, Bool) -> Void
    private let state: Mutex<State>

    /// Longest line the module keeps; it drops what is typed beyond.
    private static let maximumLineLength = 64

    private struct State {
        var closed: [Bool]
        var line: [UInt8] = []
        var muted = false
        var mutedChannels: Set<Int> = []
    }

    /// Opens the PTY and starts reading it.
    ///
    /// - Parameters:
    ///   - channelCount: relays on the module, 1 to 32 (default 8).
    ///   - onChange: called with the channel and whether its relay is now closed each time a
    ///     relay changes (not for a command that leaves it as it was), on the module's reader
    ///     thread, in the order the commands arrived, before the module prints its prompt.
    /// - Throws: `ConsoleError.cannotOpen` when no PTY can be opened.
    public init(
        channelCount: Int = 8, onChange: @escaping @Sendable (_ channel: Int, _ isOn: Bool) -> Void = { _, _ in }
    ) throws {
        precondition(
            (1...NumatoRelayPowerSwitch.maximumChannelCount).contains(channelCount), "a Numato module has 1 to 32 relays")
        self.channelCount = channelCount
        self.onChange = onChange
        state = Mutex(State(closed: Array(repeating: false, count: channelCount)))
        terminal = try RelayBoardTerminal()
        terminal.start(name: "simulated Numato relay \(terminal.devicePath)") { [self] bytes in
            receive(bytes)
        }
    }

    /// The PTY slave the driver opens, such as `/dev/pts/7`.
    public var devicePath: String { terminal.devicePath }

    /// Every byte received, in order (muted or not).
    public var receivedBytes: [UInt8] { terminal.received }

    /// Whether relay `channel` (0-based) is closed; false for a channel the module lacks.
    public func isOn(_ channel: Int) -> Bool {
        state.withLock { (0..<channelCount).contains(channel) ? $0.closed[channel] : false }
    }

    /// A muted module behaves like hung firmware: it still takes bytes (they are recorded) but
    /// neither echoes, switches nor answers, so the driver times out waiting for the prompt.
    public var isMuted: Bool {
        get { state.withLock { $0.muted } }
        set { state.withLock { $0.muted = newValue } }
    }

    /// Relays (0-based) whose commands go unanswered, as if the module's firmware hung on them:
    /// a command naming one is echoed but neither run nor answered, not even with the `>`
    /// prompt, so the driver of that board times out while the other relays keep working.
    /// Empty by default.
    public var mutedChannels: Set<Int> {
        get { state.withLock { $0.mutedChannels } }
        set { state.withLock { $0.mutedChannels = newValue } }
    }

    /// Stops reading and closes the PTY; the device path disappears.
    public func stop() {
        terminal.stop()
    }

    /// Echoes, runs complete lines, and returns what the module prints.
    private func receive(_ bytes: [UInt8]) -> [UInt8] {
        var changes: [(Int, Bool)] = []
        var output: [UInt8] = []
        state.withLock { state in
            guard !state.muted else {
                state.line.removeAll()
                return
            }
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "\r"):
                    let typed = String(decoding: state.line, as: UTF8.self)
                    state.line.removeAll()
                    if let channel = Self.namedChannel(typed), state.mutedChannels.contains(channel) { continue }
                    output += Array("\n\r".utf8)
                    let (answer, change) = run(typed, closed: &state.closed)
                    for line in answer { output += Array((line + "\n\r").utf8) }
                    if let change { changes.append(change) }
                    // The prompt goes out with this chunk's other output, after onChange ran.
                    output.append(UInt8(ascii: ">"))
                case UInt8(ascii: "\n"):
                    continue
                default:
                    guard state.line.count < Self.maximumLineLength else { continue }
                    state.line.append(byte)
                    output.append(byte)
                }
            }
        }
        for (channel, closed) in changes { onChange(channel, closed) }
        return output
    }

    /// The relay a `relay VERB N` line names, if it is one.
    private static func namedChannel(_ line: String) -> Int? {
        let words = line.split(separator: " ")
        guard words.count == 3, words[0].lowercased() == "relay" else { return nil }
        return channel(fromCode: String(words[2]))
    }

    /// Runs one command line: its answer lines and the relay change it made, if any.
    private func run(_ line: String, closed: inout [Bool]) -> (answer: [String], change: (Int, Bool)?) {
        let words = line.split(separator: " ").map { $0.lowercased() }
        guard words.count == 3, words[0] == "relay", let channel = Self.channel(fromCode: words[2]),
            channel < channelCount
        else { return ([], nil) }
        switch words[1] {
        case "on", "off":
            let newState = words[1] == "on"
            guard closed[channel] != newState else { return ([], nil) }
            closed[channel] = newState
            return ([], (channel, newState))
        case "read":
            return ([closed[channel] ? "on" : "off"], nil)
        default:
            return ([], nil)
        }
    }

    /// The relay a one-character code names (`0`…`9`, `A`…`V`, either case); nil otherwise.
    static func channel(fromCode code: String) -> Int? {
        guard code.count == 1, let character = code.uppercased().first else { return nil }
        return (0..<NumatoRelayPowerSwitch.maximumChannelCount).first { NumatoRelayPowerSwitch.channelCode($0) == character }
    }
}
