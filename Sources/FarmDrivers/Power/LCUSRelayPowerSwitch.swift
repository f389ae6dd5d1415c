import FarmCore

/// One channel of an LCUS USB relay board (a CH340 USB-serial chip driving 1 to 8 relays).
///
/// The board takes 4-byte frames at 9600 baud, 8N1: `A0`, the channel (1 to 8), `01` to close the
/// relay or `00` to open it, and the low byte of the sum of the first three. It never answers, so
/// a command has succeeded once the adapter has sent its frame, and `state()` is `.unknown`.
///
/// Every command is bounded by `timeoutSeconds` (a hung adapter stops accepting bytes) and tried
/// up to `1 + retries` times.
public struct LCUSRelayPowerSwitch: PowerSwitch {
    /// Channels a board may have.
    public static let channels = 1...8
    /// The board's fixed line speed.
    public static let baud = 9600

    /// The switch's name in messages (usually the board it powers).
    public let name: String
    /// The serial device, such as `/dev/serial/by-id/usb-1a86_USB_Serial-if00-port0`.
    public let device: String
    /// The relay, 1 to 8.
    public let channel: Int
    /// True when the board is wired to the relay's normally-closed contact: opening the relay
    /// powers it on.
    public let inverted: Bool
    /// Seconds one attempt may take (open, write, adapter drained).
    public let timeoutSeconds: Double
    /// Attempts after the first when one fails.
    public let retries: Int

    /// - Parameters:
    ///   - name: the switch's name in messages.
    ///   - device: the CH340's tty.
    ///   - channel: the relay, 1 to 8.
    ///   - inverted: the board is on the normally-closed contact (default false).
    ///   - timeoutSeconds: bound on one attempt (default 1 s).
    ///   - retries: attempts after the first (default 2).
    /// - Throws: `PowerError.unexpectedAnswer` naming the switch when the channel is outside
    ///   1...8, the timeout is not positive or retries are negative.
    public init(
        name: String, device: String, channel: Int, inverted: Bool = false, timeoutSeconds: Double = 1, retries: Int = 2
    ) throws(PowerError) {
        self.name = name
        self.device = device
        self.channel = channel
        self.inverted = inverted
        self.timeoutSeconds = timeoutSeconds
        self.retries = retries
        guard Self.channels.contains(channel) else {
            throw .unexpectedAnswer(what: label, answer: "channel \(channel) is outside 1...8")
        }
        guard timeoutSeconds > 0 else {
            throw .unexpectedAnswer(what: label, answer: "timeout must be positive, found \(timeoutSeconds) s")
        }
        guard retries >= 0 else { throw .unexpectedAnswer(what: label, answer: "retries must be 0 or more, found \(retries)") }
    }

    /// The frame that closes (`closed` true) or opens relay `channel`, such as `A0 01 01 A2`.
    public static func frame(channel: Int, closed: Bool) -> [UInt8] {
        let channelByte = UInt8(truncatingIfNeeded: channel)
        let stateByte: UInt8 = closed ? 0x01 : 0x00
        return [0xA0, channelByte, stateByte, 0xA0 &+ channelByte &+ stateByte]
    }

    /// `LCUS relay 'NAME' (DEVICE channel N)`.
    private var label: String { "LCUS relay '\(name)' (\(device) channel \(channel))" }

    public func on() async throws {
        try await send(closed: !inverted, action: "power on")
    }

    public func off() async throws {
        try await send(closed: inverted, action: "power off")
    }

    /// `.unknown`: the LCUS has no read-back.
    public func state() async throws -> PowerState { .unknown }

    private func send(closed: Bool, action: String) async throws {
        let frame = Self.frame(channel: channel, closed: closed)
        let shown = frame.map(SerialRelayLink.hex).joined(separator: " ")
        try await SerialRelayLink.run(
            device: device, baud: Self.baud, timeoutSeconds: timeoutSeconds, retries: retries,
            subject: "\(label): \(action) (\(shown))"
        ) { connection throws(SerialRelayLink.Failure) in
            try connection.write(frame)
        }
    }
}
