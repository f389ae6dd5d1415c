import Testing

@testable import FarmCore

@Suite("Log analysis of recorded and synthetic boots")
struct LogAnalyzerTests {
    /// A transcript of `bytes` whose line `n` arrived `n` milliseconds after power-on.
    static func transcript(_ bytes: [UInt8]) -> ConsoleTranscript {
        var transcript = ConsoleTranscript()
        var start = 0
        var time: Int64 = 0
        for (offset, byte) in bytes.enumerated() where byte == 0x0A {
            transcript.append(bytes[start...offset], at: time)
            start = offset + 1
            time += 1_000_000
        }
        transcript.append(bytes[start...], at: time)
        return transcript
    }

    static func analyze(_ text: String) -> LogAnalysis {
        var analyzer = LogAnalyzer()
        analyzer.consume(transcript(Array(text.utf8)), includingOpenLine: true)
        return analyzer.analysis
    }

    static func analyzeLog(_ name: String) throws -> LogAnalysis {
        var analyzer = LogAnalyzer()
        analyzer.consume(transcript(try TestFiles.log(name)), includingOpenLine: true)
        return analyzer.analysis
    }

    // MARK: Recorded boots

    @Test(arguments: ["arm64-uboot-good.log", "x86-uboot-good.log"])
    func aGoodUBootBootReachesUserspaceWithNoFatalEvent(_ log: String) throws {
        let analysis = try Self.analyzeLog(log)
        #expect(analysis.stage == .userspace)
        let bootloader = try #require(analysis.stageTimes[.bootloader])
        let kernel = try #require(analysis.stageTimes[.kernel])
        let userspace = try #require(analysis.stageTimes[.userspace])
        #expect(bootloader < kernel)
        #expect(kernel < userspace)
        #expect(analysis.bootloaderBanner?.hasPrefix("U-Boot 2023.01") == true)
        #expect(analysis.kernelVersionLine?.hasPrefix("Linux version 6.1.0-57-") == true)
        #expect(try #require(analysis.lastKernelTimestamp) > 0)
        #expect(analysis.fatalEvents.isEmpty)
        #expect(analysis.warnings.isEmpty)
        #expect(analysis.bootTimeSeconds == nil)
    }

    @Test func theLastKernelTimestampOfTheArm64BootIsItsPowerDownLine() throws {
        let analysis = try Self.analyzeLog("arm64-uboot-good.log")
        #expect(analysis.lastKernelTimestamp == 1.564525)
        #expect(analysis.kernelVersionLine?.hasSuffix("#1 SMP Debian 6.1.192-3 (2026-11-26)") == true)
    }

    @Test func thePanicLogHasOnePanicInUserspace() throws {
        let analysis = try Self.analyzeLog("arm64-uboot-panic.log")
        #expect(analysis.stage == .userspace)
        #expect(analysis.fatalEvents.count == 1)
        let panic = try #require(analysis.fatalEvents.first)
        #expect(panic.kind == .panic)
        #expect(panic.isFatal)
        #expect(panic.message.hasPrefix("Kernel panic - not syncing: Attempted to kill init!"))
        #expect(panic.stage == .userspace)
        // The log is read line by line; the panic is line 313 of the file.
        #expect(panic.lineIndex == 312)
        #expect(panic.timeSeconds == 0.312)
        #expect(analysis.lastKernelTimestamp == 1.440420)
    }

    @Test func theHangLogReachesUserspaceWithoutABootloaderOrFatalEvent() throws {
        let analysis = try Self.analyzeLog("arm64-direct-hang.log")
        #expect(analysis.stage == .userspace)
        #expect(analysis.bootloaderBanner == nil)
        #expect(analysis.stageTimes[.bootloader] == nil)
        #expect(analysis.stageTimes[.kernel] == 0)
        #expect(analysis.kernelVersionLine?.hasPrefix("Linux version 6.1.0-57-arm64") == true)
        #expect(analysis.fatalEvents.isEmpty)
        #expect(analysis.lastKernelTimestamp == 1.318675)
    }

    @Test func theTFTPFailureLogStaysInTheBootloader() throws {
        let analysis = try Self.analyzeLog("arm64-uboot-tftp-missing.log")
        #expect(analysis.stage == .bootloader)
        #expect(analysis.lastKernelTimestamp == nil)
        #expect(analysis.fatalEvents.isEmpty)
    }

    // MARK: Synthetic lines

    @Test func aCutHereWarningBlockCountsOneWarningAndNoFatalEvent() throws {
        let analysis = Self.analyze(
            """
            [    0.000000] Linux version 6.1.0
            [    0.812000] ------------[ cut here ]------------
            [    0.812001] WARNING: CPU: 0 PID: 1 at drivers/base/core.c:3051 device_add+0x1c4/0x7a0
            [    0.812002] Modules linked in:
            [    0.812003] CPU: 0 PID: 1 Comm: swapper/0 Not tainted 6.1.0 #1
            [    0.812004] Call trace:
            [    0.812005]  device_add+0x1c4/0x7a0
            [    0.812006] ---[ end trace 0000000000000000 ]---
            [    1.000000] Run /init as init process

            """)
        #expect(analysis.warnings.count == 1)
        #expect(analysis.fatalEvents.isEmpty)
        let warning = try #require(analysis.warnings.first)
        #expect(warning.kind == .warning)
        #expect(!warning.isFatal)
        #expect(warning.stage == .kernel)
        #expect(warning.lineIndex == 2)
        #expect(warning.message.hasPrefix("WARNING: CPU: 0 PID: 1 at drivers/base/core.c"))
        #expect(analysis.stage == .userspace)
    }

    static let fatalLines: [(line: String, kind: KernelEvent.Kind)] = [
        ("[    2.1] Internal error: Oops: 96000004 [#1] SMP", .oops),
        ("[    2.1] Unable to handle kernel NULL pointer dereference at virtual address 0000000000000008", .oops),
        ("[    2.1] Unable to handle kernel paging request at virtual address ffff800008000000", .oops),
        ("[    2.1] Oops: 0002 [#1] PREEMPT SMP NOPTI", .oops),
        ("[    2.1] BUG: kernel NULL pointer dereference, address: 0000000000000000", .bug),
        ("<1>[    2.1] BUG: unable to handle page fault for address: ffffffffff600000", .bug),
        ("[    2.1] Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)", .panic),
    ]

    @Test(arguments: fatalLines)
    func oopsesBugsAndPanicsAreFatal(_ line: String, _ kind: KernelEvent.Kind) throws {
        let analysis = Self.analyze("[    0.000000] Linux version 6.1.0\n\(line)\n")
        let event = try #require(analysis.fatalEvents.first)
        #expect(analysis.fatalEvents.count == 1)
        #expect(event.kind == kind)
        #expect(event.isFatal)
        #expect(event.stage == .kernel)
        #expect(!event.message.hasPrefix("["))
        #expect(analysis.warnings.isEmpty)
    }

    @Test(arguments: [
        "[    1.0] debug: BUG: not at the start",
        "[    1.0] Kernel panic-free mode",
        "---[ end Kernel panic - not syncing: Attempted to kill init! ]---",
        "BUGS: none",
    ])
    func linesThatOnlyMentionAnEventAreNotEvents(_ line: String) {
        let analysis = Self.analyze(line + "\n")
        #expect(analysis.fatalEvents.isEmpty)
        #expect(analysis.warnings.isEmpty)
    }

    @Test func aLoglevelPrefixAndTimestampAreSplitFromTheMessage() {
        let (timestamp, message) = LogAnalyzer.split("<4>[    1.234] WARNING: CPU: 0 PID: 1 at x")
        #expect(timestamp == 1.234)
        #expect(message == "WARNING: CPU: 0 PID: 1 at x")
    }

    @Test func splitHandlesLinesWithoutALoglevelOrTimestamp() {
        let plain = LogAnalyzer.split("[    0.000000] Linux version 6.1.0")
        #expect(plain.timestamp == 0)
        #expect(plain.message == "Linux version 6.1.0")
        let leadingSpace = LogAnalyzer.split("\r [   12.500000] Run /init as init process")
        #expect(leadingSpace.timestamp == 12.5)
        #expect(leadingSpace.message == "Run /init as init process")
        let uBoot = LogAnalyzer.split("U-Boot 2023.01+dfsg-2+deb12u3")
        #expect(uBoot.timestamp == nil)
        #expect(uBoot.message == "U-Boot 2023.01+dfsg-2+deb12u3")
        let loglevelOnly = LogAnalyzer.split("<6>Freeing unused kernel memory")
        #expect(loglevelOnly.timestamp == nil)
        #expect(loglevelOnly.message == "Freeing unused kernel memory")
    }

    @Test(arguments: ["[abc] text", "[ 12] no fraction", "[    1.0 unclosed", "<x>[    1.0] loglevel is not a number"])
    func bracketsThatAreNotATimestampStayInTheMessage(_ line: String) {
        let (timestamp, message) = LogAnalyzer.split(line)
        #expect(timestamp == nil)
        #expect(message.hasSuffix(line.split(separator: " ").last ?? ""))
    }

    @Test func aLoglevelPrefixedLineStillDrivesStagesAndEvents() {
        let analysis = Self.analyze("<5>[    0.000000] Linux version 6.1.0\n<6>[    1.1] Run /init as init process\n")
        #expect(analysis.stage == .userspace)
        #expect(analysis.kernelVersionLine == "Linux version 6.1.0")
        #expect(analysis.lastKernelTimestamp == 1.1)
    }

    // MARK: Incremental use

    @Test func anOpenLineIsAnalyzedOnlyWhenCompleteOrAtTheEnd() {
        var transcript = ConsoleTranscript()
        transcript.append(Array("[    0.1] Linux version 6.1.0\n[    0.2] Kernel panic - not".utf8), at: 0)
        var analyzer = LogAnalyzer()
        analyzer.consume(transcript)
        #expect(analyzer.analysis.stage == .kernel)
        #expect(analyzer.analysis.fatalEvents.isEmpty)
        transcript.append(Array(" syncing: boom\n".utf8), at: 1)
        analyzer.consume(transcript)
        #expect(analyzer.analysis.fatalEvents.map(\.message) == ["Kernel panic - not syncing: boom"])
        transcript.append(Array("[    0.3] BUG: last".utf8), at: 2)
        analyzer.consume(transcript, includingOpenLine: true)
        #expect(analyzer.analysis.fatalEvents.count == 2)
        // A line already analyzed is not analyzed again.
        analyzer.consume(transcript, includingOpenLine: true)
        #expect(analyzer.analysis.fatalEvents.count == 2)
    }

    @Test func reachingThePromptRecordsTheKernelBootTime() {
        var analyzer = LogAnalyzer()
        var transcript = ConsoleTranscript()
        transcript.append(Array("[    0.000000] Linux version 6.1.0\n[    1.312986] Run /init as init process\n".utf8), at: 0)
        analyzer.consume(transcript)
        analyzer.promptReached(atNanoseconds: 2_500_000_000)
        #expect(analyzer.analysis.stage == .prompt)
        #expect(analyzer.analysis.stageTimes[.prompt] == 2.5)
        #expect(analyzer.analysis.bootTimeSeconds == 1.312986)
    }

    @Test func reachingAnEarlierStageDoesNotMoveTheStageBack() {
        var analyzer = LogAnalyzer()
        analyzer.reach(.kernel, at: 1_000_000_000)
        analyzer.reach(.bootloader, at: 2_000_000_000)
        #expect(analyzer.analysis.stage == .kernel)
        #expect(analyzer.analysis.stageTimes[.bootloader] == nil)
        #expect(analyzer.analysis.stageTimes[.kernel] == 1)
    }
}
