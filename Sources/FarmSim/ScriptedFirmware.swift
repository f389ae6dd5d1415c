#if canImport(Glibc)
    import Glibc
#endif

/// What a scripted board runs: U-Boot's banner and autoboot countdown, the U-Boot commands a boot
/// needs, a recorded kernel boot and a minimal busybox shell.
///
/// A model without I/O (except looking files up in the TFTP root when `tftpboot` runs): the
/// scheduler tells it about power, typed bytes and the time, and takes what it prints at the line
/// rate. What it prints waits in a small queue, followed by a range of the shared recorded log,
/// so a board printing its kernel log holds an offset, not a copy.
struct ScriptedFirmware: Sendable {
    /// What the board is doing.
    enum Phase: Sendable, Equatable {
        /// Unpowered.
        case off
        /// Powered, but printing nothing more (no bootloader, hung, panicked, or its console gone).
        case silent
        /// U-Boot counts down before booting on its own; any key stops it.
        case autoboot(secondsLeft: Int)
        /// At U-Boot's `=> ` prompt.
        case bootloader
        /// Printing the recorded kernel boot.
        case kernel
        /// At busybox's `/ # ` prompt.
        case shell
    }

    /// U-Boot's command prompt.
    static let bootloaderPrompt = "=> "
    /// busybox's prompt.
    static let shellPrompt = "/ # "
    /// Where `tftpboot FILE` loads when given no address (U-Boot's `loadaddr` on QEMU arm64).
    static let defaultLoadAddress = 0x4020_0000
    /// Longest line U-Boot and the shell take; what is typed beyond is dropped.
    static let maximumLineLength = 1024
    /// Bytes of a TFTP transfer per `#` U-Boot prints (10 blocks of 1468 bytes).
    static let bytesPerHashMark = 14_680
    /// `#` marks on one line of U-Boot's TFTP progress.
    static let hashMarksPerLine = 65
    /// The most `#` marks printed for one transfer, so a huge file cannot flood the queue.
    static let maximumHashMarks = 65 * 40

    /// How this board goes wrong.
    let failure: ScriptedBoardFailure
    /// The folder `tftpboot` reads files from.
    let tftpRoot: String
    /// What the board is doing.
    private(set) var phase: Phase = .off
    /// Set when the kernel output reached the point where the console adapter goes away; the
    /// scheduler then closes the PTY and calls `consoleDisconnected()`.
    private(set) var wantsDisconnect = false

    private var pending: [UInt8] = []
    private var pendingIndex = 0
    private var run: RecordedBootLog.Run?
    private var runOffset = 0
    private var runEnd = 0
    /// When the next autoboot countdown step is due; set once the previous output is printed.
    private var countdownDeadline: Double?
    private var line: [UInt8] = []
    private var loadedAddresses: [Int] = []
    private var lastByteWasCarriageReturn = false

    init(failure: ScriptedBoardFailure, tftpRoot: String) {
        self.failure = failure
        self.tftpRoot = tftpRoot
    }

    /// True while bytes wait to be printed.
    var hasOutput: Bool { pendingIndex < pending.count || (run != nil && runOffset < runEnd) }

    /// True while the board needs the scheduler's clock: bytes to print, a countdown running, a
    /// kernel run to finish, or a console to close.
    var needsTick: Bool {
        if hasOutput || wantsDisconnect { return true }
        switch phase {
        case .autoboot, .kernel: return true
        case .off, .silent, .bootloader, .shell: return false
        }
    }

    // MARK: Events

    /// Power comes on: U-Boot starts from its banner (or, without a bootloader, nothing happens).
    mutating func powerOn() {
        reset()
        guard failure != .noBootloader else {
            phase = .silent
            return
        }
        startBootloader()
    }

    /// Power goes off: whatever was still to be printed is lost.
    mutating func powerOff() {
        reset()
        phase = .off
    }

    /// The scheduler closed the PTY.
    mutating func consoleDisconnected() {
        wantsDisconnect = false
    }

    /// Bytes typed on the console.
    mutating func receive(_ bytes: some Sequence<UInt8>) {
        for byte in bytes {
            switch phase {
            case .autoboot:
                // Any key stops the countdown; U-Boot swallows it.
                countdownDeadline = nil
                phase = .bootloader
                emit("\u{8}\u{8}\u{8} 0 \r\n" + Self.bootloaderPrompt)
            case .bootloader, .shell:
                edit(byte)
            case .off, .silent, .kernel:
                // Nothing reads the UART while the kernel boots; what is typed is lost.
                continue
            }
        }
    }

    /// Lets time pass: steps the autoboot countdown and ends the kernel run once it is printed.
    mutating func advance(at seconds: Double) {
        switch phase {
        case .autoboot(let secondsLeft):
            guard !hasOutput else { return }
            guard let deadline = countdownDeadline else {
                // Each step of the countdown lasts a second from when the previous one was printed.
                countdownDeadline = seconds + 1
                return
            }
            guard seconds >= deadline else { return }
            countdownDeadline = nil
            if secondsLeft > 1 {
                phase = .autoboot(secondsLeft: secondsLeft - 1)
                emit("\u{8}\u{8}\u{8} \(secondsLeft - 1) ")
            } else {
                // No key: the board's own boot command boots the kernel kept in its flash.
                emit("\u{8}\u{8}\u{8} 0 \r\n")
                emit(RecordedBootLog.deviceTreeHandOffWithRamdisk)
                startKernel()
            }
        case .kernel:
            if !hasOutput { finishKernel() }
        case .off, .silent, .bootloader, .shell:
            return
        }
    }

    /// Moves up to `maximumByteCount` bytes of output to the end of `buffer`.
    mutating func takeOutput(maximumByteCount: Int, into buffer: inout [UInt8]) {
        var room = maximumByteCount
        if pendingIndex < pending.count {
            let count = min(room, pending.count - pendingIndex)
            buffer.append(contentsOf: pending[pendingIndex..<(pendingIndex + count)])
            pendingIndex += count
            room -= count
            if pendingIndex == pending.count {
                // Keep a small buffer for the next echo; give a big one (TFTP progress) back.
                pending.removeAll(keepingCapacity: pending.capacity <= 512)
                pendingIndex = 0
            }
        }
        if room > 0, let run, runOffset < runEnd {
            let count = min(room, runEnd - runOffset)
            buffer.append(contentsOf: run.bytes[runOffset..<(runOffset + count)])
            runOffset += count
        }
        // The shell reads what is typed as soon as its prompt is out.
        if phase == .kernel && !hasOutput { finishKernel() }
    }

    // MARK: U-Boot

    private mutating func reset() {
        pending = []
        pendingIndex = 0
        run = nil
        runOffset = 0
        runEnd = 0
        countdownDeadline = nil
        line = []
        loadedAddresses = []
        wantsDisconnect = false
        lastByteWasCarriageReturn = false
    }

    private mutating func startBootloader() {
        loadedAddresses = []
        line = []
        emit(RecordedBootLog.bootloaderBanner)
        phase = .autoboot(secondsLeft: 2)
    }

    /// Line editing as U-Boot and busybox do it on a dumb terminal: echo, backspace, Ctrl-C.
    private mutating func edit(_ byte: UInt8) {
        let afterCarriageReturn = lastByteWasCarriageReturn
        lastByteWasCarriageReturn = byte == UInt8(ascii: "\r")
        switch byte {
        case UInt8(ascii: "\r"), UInt8(ascii: "\n"):
            // A carriage return and line feed together end one line, not two.
            if byte == UInt8(ascii: "\n") && afterCarriageReturn { return }
            emit("\r\n")
            let typed = String(decoding: line, as: UTF8.self)
            line.removeAll(keepingCapacity: true)
            if phase == .shell {
                runShell(typed)
            } else {
                runBootloader(typed)
            }
        case 0x08, 0x7F:
            guard !line.isEmpty else { return }
            line.removeLast()
            emit("\u{8} \u{8}")
        case 0x03:
            line.removeAll(keepingCapacity: true)
            emit(phase == .shell ? "^C\r\n" + Self.shellPrompt : "<INTERRUPT>\r\n" + Self.bootloaderPrompt)
        default:
            guard line.count < Self.maximumLineLength, byte >= 0x20 || byte == UInt8(ascii: "\t") else { return }
            line.append(byte)
            pending.append(byte)
        }
    }

    private mutating func runBootloader(_ typed: String) {
        let words = typed.split(separator: " ").map(String.init)
        guard let command = words.first else {
            emit(Self.bootloaderPrompt)
            return
        }
        let arguments = Array(words.dropFirst())
        switch command {
        case "setenv":
            break
        case "dhcp":
            emit("BOOTP broadcast 1\r\nDHCP client bound to address 10.0.2.15 (3 ms)\r\n")
        case "tftpboot", "tftp":
            load(arguments)
        case "booti", "bootz", "bootm", "zboot":
            if boot(command, arguments) { return }
        case "echo":
            emit(arguments.joined(separator: " ") + "\r\n")
        case "reset":
            emit("resetting ...\r\n")
            startBootloader()
            return
        default:
            emit("Unknown command '\(command)' - try 'help'\r\n")
        }
        emit(Self.bootloaderPrompt)
    }

    /// `tftpboot [ADDRESS] FILE`: the file from the TFTP root, with U-Boot's progress and total.
    private mutating func load(_ arguments: [String]) {
        let address: Int
        let file: String
        switch arguments.count {
        case 1:
            address = Self.defaultLoadAddress
            file = arguments[0]
        case 2:
            address = Self.address(arguments[0]) ?? Self.defaultLoadAddress
            file = arguments[1]
        default:
            emit("tftpboot - load file via network using TFTP protocol\r\n\r\n")
            emit("Usage:\r\ntftpboot [loadAddress] [[hostIPaddr:]bootfilename]\r\n")
            return
        }
        emit("Using virtio-net#32 device\r\nTFTP from server 10.0.2.2; our IP address is 10.0.2.15\r\n")
        emit("Filename '\(file)'.\r\nLoad address: 0x\(String(address, radix: 16))\r\nLoading: *")
        guard let size = fileSize(file) else {
            emit("\r\nTFTP error: 'File not found' (1)\r\nNot retrying...\r\n")
            return
        }
        // The first mark overwrites the `*`.
        emit("\u{8}")
        let marks = min(max(1, (size + Self.bytesPerHashMark - 1) / Self.bytesPerHashMark), Self.maximumHashMarks)
        for mark in 0..<marks {
            if mark > 0 && mark % Self.hashMarksPerLine == 0 { emit("\r\n\t ") }
            pending.append(UInt8(ascii: "#"))
        }
        emit("\r\n\t 19 MiB/s\r\ndone\r\nBytes transferred = \(size) (\(String(size, radix: 16)) hex)\r\n")
        if !loadedAddresses.contains(address) { loadedAddresses.append(address) }
    }

    /// Starts the kernel when one was loaded at the command's first address; true if it started.
    private mutating func boot(_ command: String, _ arguments: [String]) -> Bool {
        guard let kernelAddress = arguments.first.flatMap(Self.address), loadedAddresses.contains(kernelAddress) else {
            switch command {
            case "booti": emit("Bad Linux ARM64 Image magic!\r\n")
            case "bootz": emit("Bad Linux ARM zImage magic!\r\n")
            case "bootm": emit("Wrong Image Format for bootm command\r\nERROR: can't get kernel image!\r\n")
            default: emit("Bad Linux x86 bzImage magic!\r\n")
            }
            return false
        }
        if command == "zboot" {
            emit(RecordedBootLog.plainHandOff)
        } else {
            let ramdisk = arguments.count > 1 && arguments[1] != "-"
            emit(ramdisk ? RecordedBootLog.deviceTreeHandOffWithRamdisk : RecordedBootLog.deviceTreeHandOffWithoutRamdisk)
        }
        startKernel()
        return true
    }

    private mutating func startKernel() {
        phase = .kernel
        runOffset = 0
        switch failure {
        case .panic:
            run = .panic
            runEnd = RecordedBootLog.panicRun.count
        case .hang:
            run = .good
            runEnd = RecordedBootLog.hangOffset
        case .consoleDisconnect:
            run = .good
            runEnd = RecordedBootLog.disconnectOffset
        case .none, .noBootloader, .relayTimeout:
            run = .good
            runEnd = RecordedBootLog.goodRun.count
        }
    }

    /// The recorded run is printed: the shell takes over, or the board stays silent.
    private mutating func finishKernel() {
        run = nil
        switch failure {
        case .consoleDisconnect:
            wantsDisconnect = true
            phase = .silent
        case .panic, .hang:
            phase = .silent
        case .none, .noBootloader, .relayTimeout:
            phase = .shell
        }
    }

    // MARK: Shell

    private mutating func runShell(_ typed: String) {
        let words = typed.split(separator: " ").map(String.init)
        if let command = words.first {
            switch command {
            case "echo":
                emit(words.dropFirst().joined(separator: " ") + "\r\n")
            case "uname":
                emit(
                    words.contains("-a")
                        ? "Linux (none) 6.1.0-57-arm64 #1 SMP Debian 6.1.192-3 (2026-11-26) aarch64 GNU/Linux\r\n" : "Linux\r\n")
            case "true", ":":
                break
            default:
                emit("sh: \(command): not found\r\n")
            }
        }
        emit(Self.shellPrompt)
    }

    // MARK: Helpers

    private mutating func emit(_ text: String) {
        pending.append(contentsOf: text.utf8)
    }

    private mutating func emit(_ bytes: [UInt8]) {
        pending.append(contentsOf: bytes)
    }

    /// A U-Boot address: hexadecimal, with or without `0x`.
    static func address(_ text: String) -> Int? {
        let digits = text.hasPrefix("0x") || text.hasPrefix("0X") ? String(text.dropFirst(2)) : text
        return Int(digits, radix: 16)
    }

    /// The size of regular file `file` under the TFTP root; nil when it is missing or leaves the root.
    private func fileSize(_ file: String) -> Int? {
        let parts = file.split(separator: "/")
        guard !parts.isEmpty, !parts.contains("..") else { return nil }
        let path = tftpRoot + "/" + parts.joined(separator: "/")
        var information = stat()
        guard stat(path, &information) == 0, information.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int(information.st_size)
    }
}
