import Foundation
import Testing

@testable import FarmCore

@Suite("Shell tests after boot")
struct ShellTestTests {
    /// A busybox-style prompt wrapped in colour escapes.
    static let prompt = "\u{1B}[1;32m/ # \u{1B}[0m"

    func command(_ text: String, name: String = "smoke", token: String = "ab12") throws -> ShellTestCommand {
        try #require(ShellTestCommand(definition: TestDefinition(name: name, command: text, timeoutSeconds: 30), token: token))
    }

    /// What a serial console shows for `command`: the prompt, the shell's echo of the typed line,
    /// the start marker, `output`, both end markers and the next prompt, all with CR LF.
    func consoleText(for command: ShellTestCommand, output: String, status: Int) -> String {
        let echo = command.line.replacingOccurrences(of: "\n", with: "\r\n")
        let end = "BFTEST-\(command.token)-END-\(status)-\(command.token)\r\n"
        let body = "BFTEST-\(command.token)-START\r\n" + output.replacingOccurrences(of: "\n", with: "\r\n") + end + end
        return Self.prompt + echo + body + Self.prompt
    }

    /// Runs `line` with `shell -c` (`shell` is a path and its leading arguments) and returns its
    /// standard output.
    func run(_ line: String, shell: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: shell[0])
        process.arguments = Array(shell.dropFirst()) + ["-c", line]
        let standardOutput = Pipe()
        process.standardOutput = standardOutput
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = standardOutput.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test func aCommandThatExitsZeroPassesWithItsOutput() throws {
        let command = try command("uname -r")
        let text = consoleText(for: command, output: "6.1.0-18-arm64\n", status: 0)
        let parsed = try #require(ShellTestOutput(parsing: text, for: command))
        #expect(parsed.exitCode == 0)
        #expect(parsed.output == "6.1.0-18-arm64\n")
        #expect(parsed.testCases == [TestCase(name: "smoke", result: .pass, output: "6.1.0-18-arm64\n")])
    }

    @Test func aCommandThatExitsThreeFails() throws {
        let command = try command("grep -q ok /proc/cmdline")
        let text = consoleText(for: command, output: "", status: 3)
        let parsed = try #require(ShellTestOutput(parsing: text, for: command))
        #expect(parsed.exitCode == 3)
        #expect(parsed.testCases.map(\.result) == [.fail])
        #expect(parsed.output == "")
    }

    @Test func kernelMessagesBetweenOutputLinesAreRemoved() throws {
        let command = try command("cat /etc/hostname; ls /")
        let output = "qemu-arm64\n[   12.345678] random: crng init done\nbin\n[  13.000001] usb 1-1: new device\ndev\n"
        let text = consoleText(for: command, output: output, status: 0)
        let parsed = try #require(ShellTestOutput(parsing: text, for: command))
        #expect(parsed.output == "qemu-arm64\nbin\ndev\n")
        #expect(parsed.testCases.first?.output == "qemu-arm64\nbin\ndev\n")
    }

    @Test func aKernelMessageInTheMiddleOfAnOutputLineIsCutOut() throws {
        let command = try command("echo hello world")
        let text = consoleText(for: command, output: "hello w[    3.100000] foo: bar\norld\n", status: 0)
        let parsed = try #require(ShellTestOutput(parsing: text, for: command))
        #expect(parsed.output == "hello world\n")
        #expect(parsed.exitCode == 0)
    }

    @Test func aKernelMessageSplicedIntoTheEndMarkerIsCutOut() throws {
        let command = try command("true")
        let spliced = "BFTEST-ab12-E[   3.100000] foo: bar\r\nND-0-ab12\r\n"
        let text = Self.prompt + "BFTEST-ab12-START\r\n" + spliced + "BFTEST-ab12-END-0-ab12\r\n" + Self.prompt
        let parsed = try #require(ShellTestOutput(parsing: text, for: command))
        #expect(parsed.exitCode == 0)
        #expect(parsed.output == "")

        // The spliced copy cannot match line by line; the second copy does.
        var transcript = ConsoleTranscript()
        transcript.append(Array(text.utf8), at: 0)
        var scanner = ConsoleScanner()
        let found = scanner.next(in: transcript, patterns: [command.endPattern])
        let match = try #require(found)
        #expect(match.lineIndex == 3)
        let upToMatch = String(decoding: transcript.bytes[..<match.range.upperBound], as: UTF8.self)
        #expect(ShellTestOutput(parsing: upToMatch, for: command)?.exitCode == 0)
    }

    @Test func anEndMarkerWithoutTheRepeatedTokenIsAccepted() throws {
        let command = try command("false")
        let text = "BFTEST-ab12-START\nBFTEST-ab12-E[   3.100000] foo: bar\nND-1"
        let parsed = try #require(ShellTestOutput(parsing: text, for: command))
        #expect(parsed.exitCode == 1)
        #expect(parsed.testCases.map(\.result) == [.fail])
    }

    @Test func aKernelMessageSplicedIntoTheStartMarkerIsCutOut() throws {
        let command = try command("echo hi")
        let text = "BFTEST-ab[    0.900000] eth0: link up\r\n12-START\r\nhi\r\nBFTEST-ab12-END-0-ab12\r\n"
        let parsed = try #require(ShellTestOutput(parsing: text, for: command))
        #expect(parsed.output == "hi\n")
    }

    @Test func lavaSignalsBecomeTestCases() throws {
        let command = try command("./run-tests.sh", name: "suite")
        let output = """
            <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=mount-proc RESULT=pass>
            [    5.000000] EXT4-fs (vda): mounted filesystem
            <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=boot-time RESULT=pass MEASUREMENT=1.25 UNITS=ms>
            <LAVA_SIGNAL_TESTCASE TEST_CASE_ID="net up" RESULT=fail>

            """
        let text = consoleText(for: command, output: output, status: 1)
        let parsed = try #require(ShellTestOutput(parsing: text, for: command))
        #expect(parsed.testCases.count == 4)
        #expect(parsed.testCases.first?.name == "suite")
        #expect(parsed.testCases.first?.result == .fail)
        #expect(
            Array(parsed.testCases.dropFirst()) == [
                TestCase(name: "mount-proc", result: .pass),
                TestCase(name: "boot-time", result: .pass, measurement: 1.25, units: "ms"),
                TestCase(name: "net up", result: .fail),
            ])
    }

    @Test func anUnknownLavaResultIsASkip() throws {
        let command = try command("./check.sh")
        let text = consoleText(for: command, output: "<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=gpu RESULT=unknown>\n", status: 0)
        let parsed = try #require(ShellTestOutput(parsing: text, for: command))
        #expect(parsed.testCases.last == TestCase(name: "gpu", result: .skip))
    }

    @Test func lavaSignalValuesMayBeQuoted() {
        let signal = LAVASignal(parsing: "x <LAVA_SIGNAL_TESTCASE TEST_CASE_ID='a > b' RESULT=\"skip\" MEASUREMENT='2e3' UNITS=\"k B\"> y")
        #expect(signal == LAVASignal(testCaseID: "a > b", result: .skip, measurement: 2000, units: "k B"))
    }

    @Test func malformedLavaSignalsAreIgnored() {
        let text = """
            <LAVA_SIGNAL_TESTCASE RESULT=pass>
            <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=a RESULT=maybe>
            <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=b RESULT=pass
            <LAVA_SIGNAL_TESTCASEX TEST_CASE_ID=c RESULT=pass>
            <LAVA_SIGNAL_TESTCASE TEST_CASE_ID=d RESULT=PASS MEASUREMENT=fast>
            """
        #expect(LAVASignal.signals(in: text) == [LAVASignal(testCaseID: "d", result: .pass)])
    }

    @Test func withoutAnEndMarkerThereIsNoResult() throws {
        let command = try command("sleep 600")
        let text = Self.prompt + command.line.replacingOccurrences(of: "\n", with: "\r\n") + "BFTEST-ab12-START\r\n"
        #expect(ShellTestOutput(parsing: text, for: command) == nil)
        #expect(ShellTestOutput(parsing: text + "BFTEST-ab12-END-", for: command) == nil)
    }

    @Test func theEchoedCommandLineIsNotTakenForAMarker() throws {
        let command = try command("echo done")
        let echo = Self.prompt + command.line.replacingOccurrences(of: "\n", with: "\r\n")
        #expect(!echo.contains("BFTEST-ab12-START"))
        #expect(!echo.contains("BFTEST-ab12-END"))
        #expect(ShellTestOutput(parsing: echo, for: command) == nil)
        var transcript = ConsoleTranscript()
        transcript.append(Array(echo.utf8), at: 0)
        var scanner = ConsoleScanner()
        let found = scanner.next(in: transcript, patterns: [command.endPattern])
        #expect(found == nil)

        let parsed = try #require(ShellTestOutput(parsing: consoleText(for: command, output: "done\n", status: 0), for: command))
        #expect(parsed.output == "done\n")
    }

    @Test func theLineWrapsCommandsWithQuotesAndPipesInOneSubshell() throws {
        let command = try command(#"echo "it's" | tr a-z A-Z && printf 'a;b\n'"#, token: "7q")
        #expect(
            command.line
                == #"printf 'BFTEST-%s-START\n' 7q; ( eval 'echo "it'\''s" | tr a-z A-Z && printf '\''a;b\n'\''' ) </dev/null; "#
                + #"printf 'BFTEST-%s-END-%d-%s\n' 7q $? 7q 7q $? 7q"# + "\n")
        #expect(command.endPattern.source == "BFTEST-7q-END-[0-9]+-7q")
    }

    @Test func tokensMustBeLettersAndDigits() {
        let definition = TestDefinition(name: "t", command: "true", timeoutSeconds: 1)
        #expect(ShellTestCommand(definition: definition, token: "") == nil)
        #expect(ShellTestCommand(definition: definition, token: "a-b") == nil)
        #expect(ShellTestCommand(definition: definition, token: "a b") == nil)
        let made = ShellTestCommand.makeToken(sequenceNumber: 37)
        #expect(made.hasPrefix("11"))
        #expect(made.count == 6)
        #expect(ShellTestCommand(definition: definition, token: made) != nil)
    }

    @Test(arguments: [["/bin/sh"], ["/bin/busybox", "sh"]])
    func theLineRunsInARealShell(shell: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: shell[0]) else { return }
        let failing = try command(#"echo "it's here" | tr a-z A-Z && printf 'a;b\n'; exit 3 # done"#, token: "k9")
        let failed = try #require(ShellTestOutput(parsing: try run(failing.line, shell: shell), for: failing))
        #expect(failed.exitCode == 3)
        #expect(failed.testCases.map(\.result) == [.fail])
        #expect(failed.output == "IT'S HERE\na;b\n")

        let lava = try command(
            "echo '<LAVA_SIGNAL_TESTCASE TEST_CASE_ID=ping RESULT=pass MEASUREMENT=0.5 UNITS=ms>'; cat", token: "k10")
        let passed = try #require(ShellTestOutput(parsing: try run(lava.line, shell: shell), for: lava))
        #expect(passed.exitCode == 0, "cat reads /dev/null, not the console")
        #expect(passed.testCases.last == TestCase(name: "ping", result: .pass, measurement: 0.5, units: "ms"))

        let broken = try command("if true", token: "k11")
        let syntaxError = try #require(ShellTestOutput(parsing: try run(broken.line, shell: shell), for: broken))
        #expect(syntaxError.exitCode == 2, "a syntax error in the command still reports a status")
    }
}
