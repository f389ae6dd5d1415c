import FarmCore
import FarmDrivers
import Foundation
import Testing

@Suite struct HIDRelayPowerSwitchTests {
    static let on1: [UInt8] = [0xFF, 1, 0, 0, 0, 0, 0, 0]
    static let on2: [UInt8] = [0xFF, 2, 0, 0, 0, 0, 0, 0]
    static let off2: [UInt8] = [0xFD, 2, 0, 0, 0, 0, 0, 0]

    @Test func reportLayoutMatchesDcttechBoards() {
        #expect(HIDRelayPowerSwitch.onReport(channel: 2) == Self.on2)
        #expect(HIDRelayPowerSwitch.offReport(channel: 2) == Self.off2)
        #expect(HIDRelayPowerSwitch.serial(in: [0x51, 0x41, 0x41, 0x4D, 0x5A, 0, 0, 0b10]) == "QAAMZ")
        #expect(HIDRelayPowerSwitch.serial(in: [0x41, 0x42, 0, 0, 0, 0, 0, 0]) == "AB")
        #expect(HIDRelayPowerSwitch.channelCount(product: "USBRelay2") == 2)
        #expect(HIDRelayPowerSwitch.channelCount(product: "USBRelay8") == 8)
        #expect(HIDRelayPowerSwitch.channelCount(product: "USBRelay") == nil)
        #expect(HIDRelayPowerSwitch.channelCount(product: "USBRelay9") == nil)
        #expect(HIDRelayPowerSwitch.channelCount(product: "Keyboard") == nil)
        #expect(LibUSBHIDTransport.vendorID == 0x16C0)
        #expect(LibUSBHIDTransport.productID == 0x05DF)
    }

    /// A board named by a udev match is looked up each time it is opened and opened at that
    /// USB address; a lookup that fails is the switch's error, with nothing sent.
    @Test func aBoardNamedByAMatchIsOpenedAtTheAddressItsLookupFinds() async throws {
        let board = RecordingHIDRelayTransport(serial: "00000", product: "USBRelay2")
        let match = DeviceMatch([.init("ID_PATH", "pci-0000:00:14.0-usb-0:1.3:1.0")])
        let lookups = Counter()
        let power = HIDRelayPowerSwitch(board: .match(match), channel: 2, transport: board) { rule in
            #expect(rule == match)
            lookups.increment()
            return .usb(bus: 1, address: 9)
        }
        try await power.on()
        #expect(try await power.state() == .on)
        #expect(board.calls.filter { $0.hasPrefix("open") } == ["open on bus 1 address 9", "open on bus 1 address 9"])
        #expect(board.sentReports == [Self.on2])
        #expect(lookups.value == 2)

        let gone = HIDRelayPowerSwitch(board: .match(match), channel: 2, transport: board) { _ in
            throw DeviceMatchError.noMatch(rule: "\(match)", location: nil, checked: 3, nearest: nil)
        }
        await #expect(throws: DeviceMatchError.self) { try await gone.off() }
        #expect(board.sentReports == [Self.on2])
    }

    @Test func onSendsTheOnReportAndTheBoardReadsBackOn() async throws {
        let board = RecordingHIDRelayTransport(serial: "QAAMZ", product: "USBRelay2")
        let power = HIDRelayPowerSwitch(serial: "QAAMZ", channel: 2, transport: board)
        try await power.on()
        #expect(board.stateBits == 0b10, "channel 2 is bit 1; channel 1 untouched")
        #expect(board.calls == ["open QAAMZ", "set \(Self.on2)", "get 8", "close"])
        #expect(try await power.state() == .on)
    }

    @Test func offSendsTheOffReportAndLeavesOtherChannelsAlone() async throws {
        let board = RecordingHIDRelayTransport(serial: "QAAMZ", product: "USBRelay2", stateBits: 0b11)
        let power = HIDRelayPowerSwitch(serial: "QAAMZ", channel: 2, transport: board)
        try await power.off()
        #expect(board.stateBits == 0b01)
        #expect(board.sentReports == [Self.off2])
        #expect(try await power.state() == .off)
    }

    @Test func stateReadsTheChannelsBitOnly() async throws {
        let board = RecordingHIDRelayTransport(serial: "BF001", product: "USBRelay4", stateBits: 0b0100)
        #expect(try await HIDRelayPowerSwitch(serial: "BF001", channel: 3, transport: board).state() == .on)
        #expect(try await HIDRelayPowerSwitch(serial: "BF001", channel: 2, transport: board).state() == .off)
        #expect(try await HIDRelayPowerSwitch(serial: "BF001", channel: 4, transport: board).state() == .off)
        #expect(board.sentReports.isEmpty, "reading state never switches")
        #expect(board.calls.filter { $0 == "close" }.count == 3)
    }

    @Test func channelsOfOneBoardAreSwitchedIndependently() async throws {
        let board = RecordingHIDRelayTransport(serial: "QAAMZ", product: "USBRelay2")
        let first = HIDRelayPowerSwitch(serial: "QAAMZ", channel: 1, transport: board)
        let second = HIDRelayPowerSwitch(serial: "QAAMZ", channel: 2, transport: board)
        async let one: Void = first.on()
        async let two: Void = second.on()
        _ = try await (one, two)
        #expect(board.stateBits == 0b11)
        #expect(Set(board.sentReports) == [Self.on1, Self.on2])
        #expect(board.openCount == 0, "every open was closed")
    }

    @Test func cycleIsOffThenOn() async throws {
        let board = RecordingHIDRelayTransport(serial: "QAAMZ", product: "USBRelay2", stateBits: 0b10)
        let power = HIDRelayPowerSwitch(serial: "QAAMZ", channel: 2, transport: board, cycleDelaySeconds: 0.05)
        try await power.cycle()
        #expect(board.sentReports == [Self.off2, Self.on2])
        #expect(board.stateBits == 0b10)
    }

    @Test func channelBeyondTheBoardIsRefusedBeforeAnythingIsSent() async throws {
        let board = RecordingHIDRelayTransport(serial: "QAAMZ", product: "USBRelay2")
        let power = HIDRelayPowerSwitch(serial: "QAAMZ", channel: 3, transport: board)
        let error = await #expect(throws: PowerError.self) { try await power.on() }
        guard case .unexpectedAnswer(let what, let answer)? = error else {
            Issue.record("expected PowerError.unexpectedAnswer, got \(String(describing: error))")
            return
        }
        #expect(what == "USB relay board QAAMZ channel 3")
        #expect(answer == "USBRelay2 has channels 1…2 only")
        #expect(board.sentReports.isEmpty)
        #expect(board.calls.last == "close", "the board is closed after a refusal too")
    }

    @Test func productThatIsNotARelayIsRefused() async throws {
        let board = RecordingHIDRelayTransport(serial: "QAAMZ", product: "USBasp")
        let error = await #expect(throws: PowerError.self) {
            try await HIDRelayPowerSwitch(serial: "QAAMZ", channel: 1, transport: board).on()
        }
        #expect(error?.description.contains("product string \"USBasp\" is not USBRelay1…USBRelay8") == true)
        #expect(board.sentReports.isEmpty)
    }

    @Test func unknownSerialIsReportedByTheTransport() async throws {
        let board = RecordingHIDRelayTransport(serial: "QAAMZ", product: "USBRelay2")
        let error = await #expect(throws: PowerError.self) {
            try await HIDRelayPowerSwitch(serial: "ZZZZZ", channel: 1, transport: board).on()
        }
        #expect(error?.description.contains("no relay board with serial ZZZZZ") == true)
        #expect(board.calls == ["open ZZZZZ"])
    }

    @Test func relayThatDoesNotSwitchIsReported() async throws {
        let board = RecordingHIDRelayTransport(serial: "QAAMZ", product: "USBRelay2", stuck: true)
        let power = HIDRelayPowerSwitch(serial: "QAAMZ", channel: 2, transport: board)
        let error = await #expect(throws: PowerError.self) { try await power.on() }
        guard case .unexpectedAnswer(let what, let answer)? = error else {
            Issue.record("expected PowerError.unexpectedAnswer, got \(String(describing: error))")
            return
        }
        #expect(what == "USB relay board QAAMZ channel 2")
        #expect(answer == "still off after switching it on (state bits 0b00000000)")
        #expect(board.calls.last == "close")
    }

    @Test func realLibUSBEnumeratesThisMachineAndNamesTheMissingSerial() async throws {
        let transport = LibUSBHIDTransport()
        // Whatever is plugged in here, enumerating must not crash.
        let boards = try transport.boards()
        #expect(!boards.contains { $0.serial == "BFNONE" })
        let error = #expect(throws: PowerError.self) { try transport.open(.serial("BFNONE")) }
        guard case .unexpectedAnswer(let what, let answer)? = error else {
            Issue.record("expected PowerError.unexpectedAnswer, got \(String(describing: error))")
            return
        }
        #expect(what == "USB relay board BFNONE")
        #expect(answer.hasPrefix("no relay board with serial BFNONE"))
        // No USB bus has address 0 in use: a board wanted there is not found, and nothing is opened.
        let nowhere = #expect(throws: PowerError.self) { try transport.open(.usb(bus: 1, address: 0)) }
        #expect(nowhere.map { "\($0)".contains("no relay board at bus 1 address 0") } == true)
        if boards.isEmpty { #expect(answer.contains("no USB HID relay board found")) }
        // Nothing is open: reading fails cleanly, closing is harmless.
        #expect(throws: PowerError.self) { try transport.getFeatureReport(length: 8) }
        transport.close()

        let power = HIDRelayPowerSwitch(serial: "BFNONE", channel: 1)
        await #expect(throws: PowerError.self) { try await power.off() }
    }
}

/// A dcttech relay board in memory behind the transport protocol: it answers feature reports as
/// the board does (serial in bytes 0–4, state bits in byte 7), checks every report written to it
/// byte by byte, and records each call.
final class RecordingHIDRelayTransport: HIDRelayTransport, @unchecked Sendable {
    let serial: String
    let product: String
    /// A stuck relay acknowledges writes but never changes state.
    let stuck: Bool
    private let lock = NSLock()
    private var bits: UInt8
    private var log: [String] = []
    private var reports: [[UInt8]] = []
    private var opened = 0

    init(serial: String, product: String, stateBits: UInt8 = 0, stuck: Bool = false) {
        self.serial = serial
        self.product = product
        self.bits = stateBits
        self.stuck = stuck
    }

    var stateBits: UInt8 { lock.withLock { bits } }
    var calls: [String] { lock.withLock { log } }
    var sentReports: [[UInt8]] { lock.withLock { reports } }
    /// Opens not yet closed.
    var openCount: Int { lock.withLock { opened } }

    /// Where the fake board sits on the USB bus.
    var usbAddress = (bus: 1, address: 9)

    func open(_ board: HIDRelayAddress) throws -> String {
        try lock.withLock {
            log.append("open \(board)")
            switch board {
            case .usb(let bus, let address):
                guard (bus, address) == usbAddress else {
                    throw PowerError.unexpectedAnswer(
                        what: "USB relay board \(board)", answer: "no relay board at bus \(bus) address \(address)")
                }
                opened += 1
                return product
            case .serial(let wanted):
                return try openSerial(wanted)
            }
        }
    }

    private func openSerial(_ wanted: String) throws -> String {
        guard wanted == serial else {
            throw PowerError.unexpectedAnswer(
                what: "USB relay board \(wanted)", answer: "no relay board with serial \(wanted); found \(serial) (\(product))")
        }
        opened += 1
        return product
    }

    func getFeatureReport(length: Int) throws -> [UInt8] {
        try lock.withLock {
            log.append("get \(length)")
            guard opened > 0 else { throw PowerError.unexpectedAnswer(what: "fake relay", answer: "read while closed") }
            #expect(length == 8, "dcttech feature reports are 8 bytes")
            let serialBytes = Array(serial.utf8.prefix(5))
            return serialBytes + [UInt8](repeating: 0, count: 5 - serialBytes.count) + [0, 0, bits]
        }
    }

    func setFeatureReport(_ report: [UInt8]) throws {
        try lock.withLock {
            log.append("set \(report)")
            guard opened > 0 else { throw PowerError.unexpectedAnswer(what: "fake relay", answer: "write while closed") }
            let channels = HIDRelayPowerSwitch.channelCount(product: product) ?? 0
            let valid =
                report.count == 8 && [0xFF, 0xFD].contains(report[0]) && (1...max(1, channels)).contains(Int(report[1]))
                && report[2...].allSatisfy { $0 == 0 }
            guard valid else {
                Issue.record("malformed relay report \(report)")
                throw PowerError.unexpectedAnswer(what: "fake relay", answer: "malformed report \(report)")
            }
            reports.append(report)
            guard !stuck else { return }
            let bit = UInt8(1) << (report[1] - 1)
            bits = report[0] == 0xFF ? bits | bit : bits & ~bit
        }
    }

    func close() {
        lock.withLock {
            log.append("close")
            opened = max(0, opened - 1)
        }
    }
}

/// A count shared with a `@Sendable` closure.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
}
