import FarmCore
import FarmDrivers
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// `LCUSRelayPowerSwitch` on a real PTY: the test reads the master side and checks every byte.
@Suite struct LCUSRelayPowerSwitchTests {
    @Test func lcusFramesCarryChannelStateAndChecksum() {
        #expect(LCUSRelayPowerSwitch.frame(channel: 1, closed: true) == [0xA0, 0x01, 0x01, 0xA2])
        #expect(LCUSRelayPowerSwitch.frame(channel: 1, closed: false) == [0xA0, 0x01, 0x00, 0xA1])
        #expect(LCUSRelayPowerSwitch.frame(channel: 4, closed: false) == [0xA0, 0x04, 0x00, 0xA4])
        #expect(LCUSRelayPowerSwitch.frame(channel: 8, closed: true) == [0xA0, 0x08, 0x01, 0xA9])
    }

    @Test func lcusOnAndOffWriteExactFramesOnTheWire() async throws {
        let terminal = try PseudoTerminal()
        for channel in [1, 2, 5, 8] {
            let relay = try LCUSRelayPowerSwitch(name: "dut-\(channel)", device: terminal.path, channel: channel)
            try await relay.on()
            #expect(terminal.read(count: 4) == [0xA0, UInt8(channel), 0x01, 0xA1 + UInt8(channel)])
            try await relay.off()
            #expect(terminal.read(count: 4) == [0xA0, UInt8(channel), 0x00, 0xA0 + UInt8(channel)])
        }
        #expect(terminal.read(count: 1, timeoutSeconds: 0.1).isEmpty)
    }

    @Test func invertedLCUSOpensTheRelayToPowerOn() async throws {
        let terminal = try PseudoTerminal()
        let relay = try LCUSRelayPowerSwitch(name: "dut", device: terminal.path, channel: 2, inverted: true)
        try await relay.on()
        #expect(terminal.read(count: 4) == [0xA0, 0x02, 0x00, 0xA2])
        try await relay.off()
        #expect(terminal.read(count: 4) == [0xA0, 0x02, 0x01, 0xA3])
    }

    @Test func lcusRejectsChannelsOutsideOneToEight() {
        for channel in [-1, 0, 9, 16] {
            #expect {
                _ = try LCUSRelayPowerSwitch(name: "rack-a", device: "/dev/ttyUSB0", channel: channel)
            } throws: { error in
                let text = String(describing: error)
                return error is PowerError && text.contains("rack-a") && text.contains("channel \(channel) is outside 1...8")
            }
        }
        #expect(throws: PowerError.self) { _ = try LCUSRelayPowerSwitch(name: "x", device: "/dev/null", channel: 1, retries: -1) }
        #expect(throws: PowerError.self) {
            _ = try LCUSRelayPowerSwitch(name: "x", device: "/dev/null", channel: 1, timeoutSeconds: 0)
        }
    }

    @Test func lcusStateIsUnknown() async throws {
        let relay = try LCUSRelayPowerSwitch(name: "dut", device: "/dev/ttyUSB0", channel: 3)
        #expect(try await relay.state() == .unknown)
    }

    @Test func lcusWriteThatBlocksTimesOutAfterEveryRetry() async throws {
        let terminal = try PseudoTerminal()
        // Stopping the slave's output is what a hung adapter does: writes no longer go through.
        let holder = Glibc.open(terminal.path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        try #require(holder >= 0)
        defer { Glibc.close(holder) }
        tcflow(holder, TCOOFF)
        let relay = try LCUSRelayPowerSwitch(name: "dut", device: terminal.path, channel: 1, timeoutSeconds: 0.2, retries: 1)
        let started = Date()
        await #expect {
            try await relay.on()
        } throws: { error in
            guard case .timeout(let what, let seconds)? = error as? PowerError else { return false }
            return what.contains(terminal.path) && what.contains("2 attempts") && seconds == 0.2
        }
        #expect(Date().timeIntervalSince(started) >= 0.4)
        tcflow(holder, TCOON)
        #expect(terminal.read(count: 1, timeoutSeconds: 0.1).isEmpty)
    }

    @Test func lcusMissingDeviceIsReportedWithItsPath() async throws {
        let relay = try LCUSRelayPowerSwitch(name: "dut", device: "/dev/no-such-relay", channel: 1, retries: 0)
        await #expect {
            try await relay.off()
        } throws: { error in
            guard case .unexpectedAnswer(let what, let answer)? = error as? PowerError else { return false }
            return what.contains("'dut'") && what.contains("1 attempt") && answer.contains("cannot open /dev/no-such-relay")
        }
    }
}

/// `NumatoRelayPowerSwitch` on a real PTY: the test plays the module on the master side.
@Suite struct NumatoRelayPowerSwitchTests {
    @Test func numatoChannelCodesUseDigitsThenLetters() {
        #expect(NumatoRelayPowerSwitch.channelCode(0) == "0")
        #expect(NumatoRelayPowerSwitch.channelCode(9) == "9")
        #expect(NumatoRelayPowerSwitch.channelCode(10) == "A")
        #expect(NumatoRelayPowerSwitch.channelCode(31) == "V")
        #expect(NumatoRelayPowerSwitch.channelCode(32) == nil)
        #expect(NumatoRelayPowerSwitch.channelCode(-1) == nil)
    }

    @Test func numatoWritesCommandsAndWaitsForThePrompt() async throws {
        let terminal = try PseudoTerminal()
        let module = ScriptedNumato(master: terminal.master, replies: 4) { "\($0)\n\r>" }
        let first = try NumatoRelayPowerSwitch(name: "dut", device: terminal.path, channel: 0)
        let eleventh = try NumatoRelayPowerSwitch(name: "dut", device: terminal.path, channel: 11, channelCount: 16)
        try await first.on()
        try await first.off()
        try await eleventh.on()
        try await eleventh.off()
        #expect(module.commands == ["relay on 0\r", "relay off 0\r", "relay on B\r", "relay off B\r"])
    }

    @Test func numatoStateReadsOnAndOffBack() async throws {
        let terminal = try PseudoTerminal()
        // Relay 3 is closed, relay 4 open; only `read` has an answer line.
        let module = ScriptedNumato(master: terminal.master, replies: 4) { command in
            guard command.hasPrefix("relay read") else { return "\(command)\n\r>" }
            return "\(command)\n\r\(command.hasSuffix("3\r") ? "on" : "off")\n\r>"
        }
        let relay = try NumatoRelayPowerSwitch(name: "dut", device: terminal.path, channel: 3)
        let other = try NumatoRelayPowerSwitch(name: "dut", device: terminal.path, channel: 4)
        let inverted = try NumatoRelayPowerSwitch(name: "dut", device: terminal.path, channel: 3, inverted: true)
        #expect(try await relay.state() == .on)
        #expect(try await other.state() == .off)
        #expect(try await inverted.state() == .off)
        try await inverted.off()
        #expect(module.commands == ["relay read 3\r", "relay read 4\r", "relay read 3\r", "relay on 3\r"])
    }

    @Test func numatoGarbageAnswerIsUnexpectedAnswer() async throws {
        let terminal = try PseudoTerminal()
        _ = ScriptedNumato(master: terminal.master, replies: 2) { "\($0)\n\rmaybe\n\r>" }
        let relay = try NumatoRelayPowerSwitch(name: "dut", device: terminal.path, channel: 5, retries: 0)
        await #expect {
            _ = try await relay.state()
        } throws: { error in
            guard case .unexpectedAnswer(let what, let answer)? = error as? PowerError else { return false }
            return what.contains(terminal.path) && what.contains("relay read 5") && answer.contains("maybe")
        }
        await #expect(throws: PowerError.self) { try await relay.on() }
    }

    @Test func numatoSilentModuleTimesOutAfterEveryRetry() async throws {
        let terminal = try PseudoTerminal()
        let relay = try NumatoRelayPowerSwitch(name: "dut", device: terminal.path, channel: 1, timeoutSeconds: 0.2, retries: 2)
        let started = Date()
        await #expect {
            try await relay.on()
        } throws: { error in
            guard case .timeout(let what, let seconds)? = error as? PowerError else { return false }
            return what.contains(terminal.path) && what.contains("3 attempts") && what.contains("'>' prompt") && seconds == 0.2
        }
        #expect(Date().timeIntervalSince(started) >= 0.6)
        let sent = String(decoding: terminal.read(count: 100, timeoutSeconds: 0.2), as: UTF8.self)
        #expect(sent == String(repeating: "relay on 1\r", count: 3))
    }

    @Test func numatoRejectsChannelsOutsideTheModule() {
        #expect(throws: PowerError.self) { _ = try NumatoRelayPowerSwitch(name: "x", device: "/dev/null", channel: 8, channelCount: 8) }
        #expect(throws: PowerError.self) { _ = try NumatoRelayPowerSwitch(name: "x", device: "/dev/null", channel: -1) }
        #expect(throws: PowerError.self) { _ = try NumatoRelayPowerSwitch(name: "x", device: "/dev/null", channel: 32) }
        #expect(throws: PowerError.self) { _ = try NumatoRelayPowerSwitch(name: "x", device: "/dev/null", channel: 0, channelCount: 33) }
        #expect(throws: PowerError.self) { _ = try NumatoRelayPowerSwitch(name: "x", device: "/dev/null", channel: 0, baud: 12345) }
        #expect(throws: Never.self) {
            _ = try NumatoRelayPowerSwitch(name: "x", device: "/dev/null", channel: 31, baud: 115_200)
        }
    }

    /// Plays a Numato module on a PTY's master side for `replies` commands: reads each command up to
    /// its carriage return and writes what `reply` makes of it.
    final class ScriptedNumato: Sendable {
        private let received = Mutex<[String]>([])

        init(master: Int32, replies: Int, reply: @escaping @Sendable (String) -> String) {
            let thread = Thread { [self] in
                for _ in 0..<replies {
                    var line: [UInt8] = []
                    while line.last != UInt8(ascii: "\r") {
                        guard let byte = DescriptorIO.read(from: master, count: 1, timeoutSeconds: 5).first else { return }
                        line.append(byte)
                    }
                    let command = String(decoding: line, as: UTF8.self)
                    received.withLock { $0.append(command) }
                    try? DescriptorIO.write(Array(reply(command).utf8), to: master)
                }
            }
            thread.start()
        }

        /// The commands read so far, each with its carriage return.
        var commands: [String] { received.withLock { $0 } }
    }
}
