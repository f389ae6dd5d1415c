import FarmCore
import Foundation

/// Which USB HID relay board to open.
public enum HIDRelayAddress: Sendable, Equatable, CustomStringConvertible {
    /// The board whose feature report carries this serial.
    case serial(String)
    /// The board at this USB bus number and device address, looked up from a udev match just
    /// before it is opened (the address changes when the board is plugged again).
    case usb(bus: Int, address: Int)

    public var description: String {
        switch self {
        case .serial(let serial): serial
        case .usb(let bus, let address): "on bus \(bus) address \(address)"
        }
    }
}

/// Feature-report access to one USB HID relay board.
///
/// Calls block for at most the transport's USB timeout; a switch opens the board, exchanges a few
/// reports and closes it within one operation.
public protocol HIDRelayTransport: Sendable {
    /// Opens the relay board `board` and returns its USB product string (`USBRelay2` for a
    /// two-channel board).
    func open(_ board: HIDRelayAddress) throws -> String
    /// Reads feature report 0 of the open board: `length` bytes (8 for dcttech boards).
    func getFeatureReport(length: Int) throws -> [UInt8]
    /// Writes feature report 0 of the open board.
    func setFeatureReport(_ report: [UInt8]) throws
    /// Closes the board; harmless when none is open.
    func close()
}

/// One channel of a dcttech-style USB HID relay board (VID 0x16C0, PID 0x05DF, product string
/// `USBRelayN` for N channels), found by the board's 5-character serial or by a udev match (its
/// hub port, for boards that share a serial), never by a bus address written in a lab file.
///
/// The board's 8-byte feature report holds the serial in bytes 0–4 and the channels' state in
/// byte 7 (bit n−1 set: channel n on). Writing `[0xFF, n, 0, …]` switches channel n on,
/// `[0xFD, n, 0, …]` off. Every switch is read back and checked.
public struct HIDRelayPowerSwitch: PowerSwitch {
    /// The board: its serial (bytes 0–4 of its feature report, such as `QAAMZ`) or a udev match.
    public let board: HIDRelayBoard
    /// The relay channel the board is wired to, from 1.
    public let channel: Int
    /// How reports reach the board.
    public let transport: any HIDRelayTransport
    /// Seconds between off and on in `cycle()`. Default 1.
    public var cycleDelaySeconds: Double

    /// Finds the USB address of a board named by a udev match, each time it is opened.
    public let locate: @Sendable (DeviceMatch) throws -> HIDRelayAddress

    /// A switch for `channel` of `board`, reached through `transport` (libusb); a board named by
    /// a udev match is looked up with `locate` (libudev, or sysfs) each time it is opened.
    public init(
        board: HIDRelayBoard, channel: Int, transport: any HIDRelayTransport = LibUSBHIDTransport(), cycleDelaySeconds: Double = 1,
        locate: @escaping @Sendable (DeviceMatch) throws -> HIDRelayAddress = { try DeviceResolver.usbAddress(ofRelay: $0) }
    ) {
        self.board = board
        self.channel = channel
        self.transport = transport
        self.cycleDelaySeconds = cycleDelaySeconds
        self.locate = locate
    }

    /// A switch for `channel` of the board with `serial`.
    public init(serial: String, channel: Int, transport: any HIDRelayTransport = LibUSBHIDTransport(), cycleDelaySeconds: Double = 1) {
        self.init(board: .serial(serial), channel: channel, transport: transport, cycleDelaySeconds: cycleDelaySeconds)
    }

    /// Length of a dcttech board's feature report, in bytes.
    public static let reportLength = 8

    /// The report that switches `channel` on.
    public static func onReport(channel: Int) -> [UInt8] { report(command: 0xFF, channel: channel) }

    /// The report that switches `channel` off.
    public static func offReport(channel: Int) -> [UInt8] { report(command: 0xFD, channel: channel) }

    /// The serial in a feature report: bytes 0–4 up to the first zero byte.
    public static func serial(in report: [UInt8]) -> String {
        String(decoding: report.prefix(5).prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The number of channels a product string announces (`USBRelay4` → 4), nil if it is not one.
    public static func channelCount(product: String) -> Int? {
        guard product.hasPrefix("USBRelay"), let count = Int(product.dropFirst("USBRelay".count)), (1...8).contains(count)
        else { return nil }
        return count
    }

    private static func report(command: UInt8, channel: Int) -> [UInt8] {
        [command, UInt8(clamping: channel)] + [UInt8](repeating: 0, count: reportLength - 2)
    }

    /// Serialises board access in this process: a board's interface can be claimed by one
    /// handle at a time, and several switches (one per channel) share a board.
    private static let boardAccess = NSLock()

    public func on() async throws { try setChannel(on: true) }

    public func off() async throws { try setChannel(on: false) }

    public func cycle() async throws {
        try await off()
        try await Task.sleep(for: .seconds(cycleDelaySeconds))
        try await on()
    }

    /// The channel's state as the board reports it (bit `channel - 1` of report byte 7).
    public func state() async throws -> PowerState {
        try withBoard { Self.isOn(channel, in: try readReport()) } ? .on : .off
    }

    private var boardName: String {
        switch board {
        case .serial(let serial): "USB relay board \(serial) channel \(channel)"
        case .match(let match): "USB relay board \(match) channel \(channel)"
        }
    }

    private func setChannel(on: Bool) throws {
        try withBoard {
            try transport.setFeatureReport(on ? Self.onReport(channel: channel) : Self.offReport(channel: channel))
            let report = try readReport()
            guard Self.isOn(channel, in: report) == on else {
                throw PowerError.unexpectedAnswer(
                    what: boardName,
                    answer: "still \(on ? "off" : "on") after switching it \(on ? "on" : "off") (state bits \(Self.bits(report)))")
            }
        }
    }

    /// Opens the board, checks the channel exists, runs `body` and closes the board.
    private func withBoard<Result>(_ body: () throws -> Result) throws -> Result {
        Self.boardAccess.lock()
        defer { Self.boardAccess.unlock() }
        let address: HIDRelayAddress
        switch board {
        case .serial(let serial): address = .serial(serial)
        case .match(let match): address = try locate(match)
        }
        let product = try transport.open(address)
        defer { transport.close() }
        guard let channels = Self.channelCount(product: product) else {
            throw PowerError.unexpectedAnswer(what: boardName, answer: "product string \"\(product)\" is not USBRelay1…USBRelay8")
        }
        guard (1...channels).contains(channel) else {
            throw PowerError.unexpectedAnswer(what: boardName, answer: "\(product) has channels 1…\(channels) only")
        }
        return try body()
    }

    private func readReport() throws -> [UInt8] {
        let report = try transport.getFeatureReport(length: Self.reportLength)
        guard report.count == Self.reportLength else {
            throw PowerError.unexpectedAnswer(
                what: boardName, answer: "feature report of \(report.count) bytes, expected \(Self.reportLength)")
        }
        return report
    }

    private static func isOn(_ channel: Int, in report: [UInt8]) -> Bool {
        report[7] & (1 << UInt8(channel - 1)) != 0
    }

    private static func bits(_ report: [UInt8]) -> String {
        let binary = String(report[7], radix: 2)
        return "0b" + String(repeating: "0", count: max(0, 8 - binary.count)) + binary
    }
}
