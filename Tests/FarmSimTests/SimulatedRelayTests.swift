import FarmCore
import FarmDrivers
import FarmSim
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The simulated LCUS and Numato relay boards, driven by the real drivers and by raw bytes.
@Suite struct SimulatedRelayTests {
    // MARK: LCUS

    @Test func simulatedLCUSRelayFollowsFramesFromTheDriver() async throws {
        let changes = ChangeLog()
        let board = try SimulatedLCUSRelay(onChange: changes.record)
        defer { board.stop() }
        for channel in [1, 2, 8] {
            try await LCUSRelayPowerSwitch(name: "dut-\(channel)", device: board.devicePath, channel: channel).on()
        }
        try await LCUSRelayPowerSwitch(name: "dut-2", device: board.devicePath, channel: 2).off()
        try await Self.eventually { changes.entries.count == 4 }
        #expect(changes.entries == ["1 on", "2 on", "8 on", "2 off"])
        #expect(
            board.receivedBytes == [
                0xA0, 0x01, 0x01, 0xA2, 0xA0, 0x02, 0x01, 0xA3, 0xA0, 0x08, 0x01, 0xA9, 0xA0, 0x02, 0x00, 0xA2,
            ])
        #expect(board.isOn(1) && !board.isOn(2) && board.isOn(8) && !board.isOn(3))
        #expect(board.rejectedFrameCount == 0)
    }

    @Test func simulatedLCUSRelayIgnoresBadFramesAndReassemblesSplitOnes() async throws {
        let changes = ChangeLog()
        let board = try SimulatedLCUSRelay(channelCount: 4, onChange: changes.record)
        defer { board.stop() }
        let device = try RawDevice(path: board.devicePath)
        try device.write([0xA0, 0x01, 0x01, 0xA3])  // wrong checksum
        try device.write([0x55])  // noise
        try device.write([0xA0, 0x05, 0x01, 0xA6])  // channel 5 on a 4-channel board
        try device.write([0xA0, 0x02, 0x02, 0xA4])  // state neither 00 nor 01
        try device.write([0xA0, 0x02, 0x01, 0xA3])
        try await Self.eventually { board.isOn(2) }
        try device.write([0xA0, 0x03])
        try await Task.sleep(for: .milliseconds(50))
        try device.write([0x01, 0xA4])
        try await Self.eventually { board.isOn(3) }
        #expect(!board.isOn(1))
        #expect(board.rejectedFrameCount == 3)
        #expect(changes.entries == ["2 on", "3 on"])
        #expect(board.receivedBytes.count == 21)
    }

    @Test func mutedLCUSRelayMakesTheDriverTimeOutAfterItsRetries() async throws {
        let board = try SimulatedLCUSRelay()
        defer { board.stop() }
        board.isMuted = true
        let relay = try LCUSRelayPowerSwitch(name: "dut", device: board.devicePath, channel: 1, timeoutSeconds: 0.2, retries: 2)
        let started = Date()
        await #expect {
            try await relay.on()
        } throws: { error in
            guard case .timeout(let what, let seconds)? = error as? PowerError else { return false }
            return what.contains("'dut'") && what.contains(board.devicePath) && what.contains("3 attempts") && seconds == 0.2
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.6 && elapsed < 3)
        #expect(board.receivedBytes.isEmpty)
        #expect(!board.isOn(1))
    }

    @Test func lcusRetrySucceedsOnceTheRelayAcceptsBytesAgain() async throws {
        let board = try SimulatedLCUSRelay()
        defer { board.stop() }
        board.isMuted = true
        let relay = try LCUSRelayPowerSwitch(name: "dut", device: board.devicePath, channel: 6, timeoutSeconds: 0.3, retries: 2)
        let switching = Task { try await relay.on() }
        try await Task.sleep(for: .milliseconds(400))
        board.isMuted = false
        try await switching.value
        try await Self.eventually { board.isOn(6) }
        #expect(board.receivedBytes == [0xA0, 0x06, 0x01, 0xA7])
    }

    @Test func twoChannelsOfOneLCUSBoardSwitchAtOnceWithoutMixingFrames() async throws {
        let board = try SimulatedLCUSRelay()
        defer { board.stop() }
        let first = try LCUSRelayPowerSwitch(name: "dut-3", device: board.devicePath, channel: 3)
        let second = try LCUSRelayPowerSwitch(name: "dut-4", device: board.devicePath, channel: 4)
        async let firstOn: Void = first.on()
        async let secondOn: Void = second.on()
        _ = try await (firstOn, secondOn)
        try await Self.eventually { board.isOn(3) && board.isOn(4) }
        #expect(board.rejectedFrameCount == 0)
        #expect(board.receivedBytes.count == 8)
    }

    @Test func lcusCycleGoesOffThenOn() async throws {
        let changes = ChangeLog()
        let board = try SimulatedLCUSRelay(onChange: changes.record)
        defer { board.stop() }
        let relay = try LCUSRelayPowerSwitch(name: "dut", device: board.devicePath, channel: 1)
        try await relay.on()
        try await relay.cycle()
        try await Self.eventually { changes.entries.count == 3 }
        #expect(changes.entries == ["1 on", "1 off", "1 on"])
        #expect(board.receivedBytes == [0xA0, 0x01, 0x01, 0xA2, 0xA0, 0x01, 0x00, 0xA1, 0xA0, 0x01, 0x01, 0xA2])
    }

    // MARK: Numato

    @Test func simulatedNumatoRelayEchoesAnswersAndPrompts() async throws {
        let board = try SimulatedNumatoRelay(channelCount: 4)
        defer { board.stop() }
        let device = try RawDevice(path: board.devicePath)
        try device.write(Array("relay read 2\r".utf8))
        #expect(device.readText(through: ">") == "relay read 2\n\roff\n\r>")
        try device.write(Array("relay on 2\r".utf8))
        #expect(device.readText(through: ">") == "relay on 2\n\r>")
        try device.write(Array("relay read 2\r".utf8))
        #expect(device.readText(through: ">") == "relay read 2\n\ron\n\r>")
        try device.write(Array("relay on 7\r".utf8))  // no relay 7 on a 4-channel module
        #expect(device.readText(through: ">") == "relay on 7\n\r>")
        try device.write(Array("ver\r\n".utf8))
        #expect(device.readText(through: ">") == "ver\n\r>")
        #expect(board.isOn(2) && !board.isOn(3) && !board.isOn(7))
    }

    @Test func simulatedNumatoRelayFollowsTheDriverAndReadsBack() async throws {
        let changes = ChangeLog()
        let board = try SimulatedNumatoRelay(channelCount: 16, onChange: changes.record)
        defer { board.stop() }
        var expectedText = ""
        for channel in [0, 3, 12] {
            let code = try #require(NumatoRelayPowerSwitch.channelCode(channel))
            let relay = try NumatoRelayPowerSwitch(name: "dut-\(channel)", device: board.devicePath, channel: channel, channelCount: 16)
            #expect(try await relay.state() == .off)
            try await relay.on()
            #expect(board.isOn(channel))
            #expect(try await relay.state() == .on)
            try await relay.off()
            #expect(!board.isOn(channel))
            expectedText += "relay read \(code)\rrelay on \(code)\rrelay read \(code)\rrelay off \(code)\r"
        }
        #expect(String(decoding: board.receivedBytes, as: UTF8.self) == expectedText)
        #expect(changes.entries == ["0 on", "0 off", "3 on", "3 off", "12 on", "12 off"])
    }

    @Test func mutedNumatoRelayMakesTheDriverTimeOutAfterItsRetries() async throws {
        let board = try SimulatedNumatoRelay()
        defer { board.stop() }
        board.isMuted = true
        let relay = try NumatoRelayPowerSwitch(name: "dut", device: board.devicePath, channel: 1, timeoutSeconds: 0.2, retries: 2)
        let started = Date()
        await #expect {
            try await relay.on()
        } throws: { error in
            guard case .timeout(let what, let seconds)? = error as? PowerError else { return false }
            return what.contains("'dut'") && what.contains(board.devicePath) && what.contains("3 attempts") && seconds == 0.2
        }
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed >= 0.6 && elapsed < 3)
        #expect(String(decoding: board.receivedBytes, as: UTF8.self) == String(repeating: "relay on 1\r", count: 3))
        #expect(!board.isOn(1))
        board.isMuted = false
        try await relay.on()
        #expect(board.isOn(1))
    }

    @Test func mutedNumatoChannelTimesOutWhileTheOtherChannelsAnswer() async throws {
        let changes = ChangeLog()
        let board = try SimulatedNumatoRelay(channelCount: 32, onChange: changes.record)
        defer { board.stop() }
        board.mutedChannels = [3, 20]
        #expect(board.mutedChannels == [3, 20])
        let muted = try NumatoRelayPowerSwitch(name: "dut-3", device: board.devicePath, channel: 3, timeoutSeconds: 0.2, retries: 1)
        await #expect {
            try await muted.on()
        } throws: { error in
            guard case .timeout(let what, _)? = error as? PowerError else { return false }
            return what.contains("Numato relay 'dut-3'") && what.contains("channel 3") && what.contains("2 attempts")
        }
        #expect(!board.isOn(3))
        let neighbour = try NumatoRelayPowerSwitch(name: "dut-4", device: board.devicePath, channel: 4, timeoutSeconds: 0.5, retries: 0)
        try await neighbour.on()
        #expect(try await neighbour.state() == .on)
        #expect(board.isOn(4))
        #expect(changes.entries == ["4 on"])
        board.mutedChannels = []
        try await muted.on()
        #expect(board.isOn(3))
    }

    @Test func numatoCycleGoesOffThenOn() async throws {
        let changes = ChangeLog()
        let board = try SimulatedNumatoRelay(onChange: changes.record)
        defer { board.stop() }
        let relay = try NumatoRelayPowerSwitch(name: "dut", device: board.devicePath, channel: 5, channelCount: 8)
        try await relay.on()
        try await relay.cycle()
        #expect(changes.entries == ["5 on", "5 off", "5 on"])
        #expect(String(decoding: board.receivedBytes, as: UTF8.self) == "relay on 5\rrelay off 5\rrelay on 5\r")
    }

    @Test func invertedNumatoSwitchPowersOnByOpeningTheRelay() async throws {
        let board = try SimulatedNumatoRelay()
        defer { board.stop() }
        let relay = try NumatoRelayPowerSwitch(name: "dut", device: board.devicePath, channel: 2, inverted: true)
        try await relay.off()
        #expect(board.isOn(2))
        #expect(try await relay.state() == .off)
        try await relay.on()
        #expect(!board.isOn(2))
        #expect(try await relay.state() == .on)
        #expect(String(decoding: board.receivedBytes, as: UTF8.self) == "relay on 2\rrelay read 2\rrelay off 2\rrelay read 2\r")
    }

    // MARK: Both

    @Test func stoppingASimulatedRelayHangsUpItsDevice() async throws {
        let lcus = try SimulatedLCUSRelay()
        let numato = try SimulatedNumatoRelay()
        let lcusDevice = try RawDevice(path: lcus.devicePath)
        let numatoDevice = try RawDevice(path: numato.devicePath)
        lcus.stop()
        numato.stop()
        lcus.stop()
        #expect(lcusDevice.isHungUp())
        #expect(numatoDevice.isHungUp())
    }

    // MARK: Helpers

    /// Relay changes as `"CHANNEL on"` / `"CHANNEL off"`, in the order they were reported.
    final class ChangeLog: Sendable {
        private let recorded = Mutex<[String]>([])

        var entries: [String] { recorded.withLock { $0 } }

        @Sendable func record(channel: Int, isOn: Bool) {
            recorded.withLock { $0.append("\(channel) \(isOn ? "on" : "off")") }
        }
    }

    /// Waits until `condition` holds, checking every 10 ms; fails the test after `timeoutSeconds`.
    static func eventually(timeoutSeconds: Double = 5, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while !condition() {
            guard Date() < deadline else {
                Issue.record("condition not met within \(timeoutSeconds) s")
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// The driver's side of a simulated board's PTY, opened raw by the test itself.
    final class RawDevice {
        private let descriptor: Int32

        init(path: String) throws {
            descriptor = try SerialConsoleReader.openRaw(path)
        }

        deinit { Glibc.close(descriptor) }

        /// Writes every byte (the PTY takes a few bytes at once).
        func write(_ bytes: [UInt8]) throws {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            guard written == bytes.count else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }

        /// Reads up to and including `terminator`, or what arrived within `timeoutSeconds`.
        func readText(through terminator: Character, timeoutSeconds: Double = 5) -> String {
            var received: [UInt8] = []
            let deadline = Date().addingTimeInterval(timeoutSeconds)
            let end = terminator.asciiValue ?? 0
            while received.last != end, Date() < deadline {
                var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 50) > 0 else { continue }
                var byte: UInt8 = 0
                if Glibc.read(descriptor, &byte, 1) == 1 { received.append(byte) }
            }
            return String(decoding: received, as: UTF8.self)
        }

        /// True when the other side closed: reading gives end of file or EIO.
        func isHungUp() -> Bool {
            var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 1000) > 0 else { return false }
            var byte: UInt8 = 0
            let count = Glibc.read(descriptor, &byte, 1)
            return count == 0 || (count < 0 && errno == EIO)
        }
    }
}
