import Foundation
import Testing

@testable import FarmCore

@Suite("Lab files: agent settings, health checks, power sequences and meter rates")
struct LabAgentSettingsTests {
    static let sections = """
        agent: {retries: 1, health_failures_offline: 5, console_return_s: 4}
        health_checks:
          qemu-arm64: {kernel: kit/Image, ramdisk: /abs/ramdisk.cpio.gz}

        """

    static let base = """
        name: settings-lab
        board_types: boards
        boards:
          a1:
            type: qemu-arm64
            power: {kind: qemu}
            console: {kind: qemu-pty}
          r1:
            type: qemu-arm64-uboot
            power: {kind: lcus, device: /dev/null, channel: 1}
            console: {kind: serial, device: /dev/null}
            tftp_root: /srv/tftp
            power_sequence: {off_s: 2, settle_s: 0.5}
            meter: {kind: hwmon, path: /sys/class/hwmon/hwmon0, rate_hz: 1000, voltage_current_hz: 0}
        """

    static var lab: String { sections + base }

    @Test func settingsDecode() throws {
        let temporary = try TemporaryLab()
        let folder = temporary.folder
        let lab = try temporary.decodeLab(Self.lab)
        #expect(lab.agent == AgentSettings(retries: 1, healthFailuresOffline: 5, consoleReturnSeconds: 4))
        let direct = try #require(lab.board(named: "a1"))
        #expect(
            direct.type.healthCheck == HealthCheck(kernel: folder.appendingPathComponent("kit/Image").path, ramdisk: "/abs/ramdisk.cpio.gz")
        )
        #expect(direct.type.powerSequence == PowerSequence())
        let relay = try #require(lab.board(named: "r1"))
        #expect(relay.type.powerSequence == PowerSequence(offSeconds: 2, settleSeconds: 0.5))
        #expect(relay.meter?.rateHz == 1000 && relay.meter?.voltageAndCurrentRateHz == 0)
    }

    @Test func theRepositoryBoardTypesHaveHealthChecksFromTheKit() throws {
        let type = try BoardType.decode(
            try ConfigNode.load(TestFiles.repositoryRoot.appendingPathComponent("boards/qemu-arm64-uboot.yaml").path))
        #expect(type.healthCheck?.kernel == TestFiles.repositoryRoot.appendingPathComponent(".kit/arm64/Image").standardized.path)
    }

    @Test(arguments: [
        ("agent: {retries: 11}", "agent.retries", "0 to 10"),
        ("agent: {health_failures_offline: 0}", "agent.health_failures_offline", "1 to 100"),
        ("agent: {retry: 1}", "agent.retry", "unknown key"),
        ("health_checks:\n  qemu-x86-uboot: {kernel: k}", "health_checks.qemu-x86-uboot", "no board of type"),
        ("health_checks:\n  qemu-arm64: {ramdisk: r}", "health_checks.qemu-arm64", "needs a 'kernel'"),
    ])
    func badAgentSettingsNameTheirKey(extra: String, key: String, words: String) throws {
        let folder = try TemporaryLab()
        let error = try #require(throws: ConfigError.self) { try folder.decodeLab(extra + "\n" + Self.base) }
        #expect(error.key == key, "\(error)")
        #expect(error.message.contains(words), "\(error)")
        #expect(error.line != nil)
    }

    @Test func badPowerSequencesAndMeterRatesAreRefused() throws {
        let folder = try TemporaryLab()
        let negative = Self.lab.replacingOccurrences(of: "off_s: 2", with: "off_s: -1")
        let error = try #require(throws: ConfigError.self) { try folder.decodeLab(negative) }
        #expect(error.key == "boards.r1.power_sequence.off_s" && error.message.contains("0 to 600"), "\(error)")
        let fast = Self.lab.replacingOccurrences(of: "voltage_current_hz: 0", with: "voltage_current_hz: 2000")
        let meterError = try #require(throws: ConfigError.self) { try folder.decodeLab(fast) }
        #expect(meterError.key == "boards.r1.meter.voltage_current_hz", "\(meterError)")
    }
}
