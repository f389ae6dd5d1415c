import FarmCore
import Foundation

/// One channel of a Numato USB relay module (1 to 32 relays behind a USB CDC serial port).
///
/// The module takes text commands ended by a carriage return — `relay on N`, `relay off N`,
/// `relay read N` — echoes each command, prints its answer (`on` or `off` for `read`), and ends
/// with a `>` prompt. Relays are numbered from 0 and written as one character: `0`…`9`, then
/// `A`…`V` for relays 10 to 31.
///
/// Every command waits at most `timeoutSeconds` for the prompt and is tried up to `1 + retries`
/// times.
public struct NumatoRelayPowerSwitch: PowerSwitch {
    /// The largest modules have 32 relays.
    public static let maximumChannelCount = 32

    /// The switch's name in messages (usually the board it powers).
    public let name: String
    /// The module's serial device, such as `/dev/serial/by-id/usb-Numato_Systems_…-if00`.
    public let device: String
    /// The relay, from 0.
    public let channel: Int
    /// How many relays the module has (1 to 32).
    public let channelCount: Int
    /// True when the board is wired to the relay's normally-closed contact: opening the relay
    /// powers it on.
    public let inverted: Bool
    /// Line speed (the modules accept 19200 and 115200).
    public let baud: Int
    /// Seconds one attempt may take, from opening the device to the `>` prompt.
    public let timeoutSeconds: Double
    /// Attempts after the first when one fails.
    public let retries: Int

    /// - Parameters:
    ///   - name: the switch's name in messages.
    ///   - device: the module's tty.
    ///   - channel: the relay, 0 to `channelCount - 1`.
    ///   - channelCount: relays on the module (default 32, the largest; set it to catch typos).
    ///   - inverted: the board is on the normally-closed contact (default false).
    ///   - baud: line speed (default 19200).
    ///   - timeoutSeconds: bound on one attempt (default 2 s).
    ///   - retries: attempts after the first (default 2).
    /// - Throws: `PowerError.unexpectedAnswer` naming the switch when the channel is outside the
    ///   module, the channel count outside 1...32, the baud rate unsupported, the timeout not
    ///   positive or retries negative.
    public init(
        name: String, device: String, channel: Int, channelCount: Int = 32, inverted: Bool = false, baud: Int = 19200,
        timeoutSeconds: Double = 2, retries: Int = 2
    ) throws(PowerError) {
        self.name = name
        self.device = device
        self.channel = channel
        self.channelCount = channelCount
        self.inverted = inverted
        self.baud = baud
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        guard (1...Self.maximumChannelCount).contains(channelCount) else {
            throw .unexpectedAnswer(what: label, answer: "channel count \(channelCount) is outside 1...32")
        }
        guard (0..<channelCount).contains(channel) else {
            throw .unexpectedAnswer(what: label, answer: "channel \(channel) is outside 0...\(channelCount - 1)")
        }
        guard SerialBaudRates.supported.contains(baud) else {
            throw .unexpectedAnswer(what: label, answer: "unsupported baud rate \(baud)")
        }
        guard timeoutSeconds > 0 else {
            throw .unexpectedAnswer(what: label, answer: "timeout must be positive, found \(timeoutSeconds) s")
        }
        guard retries >= 0 else { throw .unexpectedAnswer(what: label, answer: "retries must be 0 or more, found \(retries)") }
    }

    /// How the module writes relay `channel`: `0`…`9`, then `A`…`V`; nil outside 0...31.
    public static func channelCode(_ channel: Int) -> Character? {
        let codes = Array("0123456789ABCDEFGHIJKLMNOPQRSTUV")
        return codes.indices.contains(channel) ? codes[channel] : nil
    }

    /// The command line for `verb` (`on`, `off`, `read`) on this relay, without its carriage return.
    func command(_ verb: String) -> String {
        "relay \(verb) \(Self.channelCode(channel).map(String.init) ?? "?")"
    }

    /// `Numato relay 'NAME' (DEVICE channel N)`.
    private var label: String { "Numato relay '\(name)' (\(device) channel \(channel))" }

    public func on() async throws {
        _ = try await exchange(command(inverted ? "off" : "on"))
    }

    public func off() async throws {
        _ = try await exchange(command(inverted ? "on" : "off"))
    }

    /// Reads the relay back (`relay read N`) and maps it through `inverted`.
    public func state() async throws -> PowerState {
        let answer = try await exchange(command("read"))
        switch answer {
        case ["on"]: return inverted ? .off : .on
        case ["off"]: return inverted ? .on : .off
        default: return .unknown
        }
    }

    /// Sends `line` and returns the answer's lines (echo and prompt removed); a `read` must answer
    /// exactly `on` or `off`, `on` and `off` nothing.
    private func exchange(_ line: String) async throws -> [String] {
        let isRead = line.hasPrefix("relay read")
        return try await SerialRelayLink.run(
            device: device, baud: baud, timeoutSeconds: timeoutSeconds, retries: retries, subject: "\(label): \(line)"
        ) { connection throws(SerialRelayLink.Failure) in
            connection.discardInput()
            try connection.write(Array((line + "\r").utf8))
            let heard = try connection.read(through: UInt8(ascii: ">"), waitingFor: "waiting for the '>' prompt")
            let lines = Self.answerLines(heard, command: line)
            let expected = isRead ? (lines == ["on"] || lines == ["off"]) : lines.isEmpty
            guard expected else { throw .unexpectedAnswer(SerialRelayLink.printable(heard)) }
            return lines
        }
    }

    /// The lines of an answer after the echo of `command`, trimmed, empty ones dropped.
    static func answerLines(_ heard: [UInt8], command: String) -> [String] {
        let text = String(decoding: heard, as: UTF8.self)
        let answer = text.range(of: command).map { text[$0.upperBound...] } ?? text[...]
        return answer.split(whereSeparator: { $0 == "\r" || $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}
