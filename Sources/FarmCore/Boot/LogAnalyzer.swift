/// Something the kernel reported that matters to the outcome.
public struct KernelEvent: Sendable, Equatable {
    /// What kind of event.
    public enum Kind: String, Sendable, Codable {
        /// `Kernel panic - not syncing`.
        case panic
        /// An oops or an unhandled fault.
        case oops
        /// `BUG:`.
        case bug
        /// A `WARNING:` ("cut here") block: counted, not fatal.
        case warning
    }

    public var kind: Kind
    /// Line index in the transcript.
    public var lineIndex: Int
    /// The line's message without loglevel and timestamp.
    public var message: String
    /// The stage the boot was in.
    public var stage: Stage
    /// Console time of the line, seconds since power-on.
    public var timeSeconds: Double

    /// True for events that fail a boot.
    public var isFatal: Bool { kind != .warning }
}

/// What the log says about a boot.
public struct LogAnalysis: Sendable, Equatable {
    /// An analysis of nothing: no stage reached.
    public init() {}

    /// Furthest stage reached.
    public var stage: Stage = .power
    /// Console time (seconds since power-on) at which each stage was first reached.
    public var stageTimes: [Stage: Double] = [:]
    /// Fatal kernel events, in order.
    public var fatalEvents: [KernelEvent] = []
    /// Kernel warnings, in order.
    public var warnings: [KernelEvent] = []
    /// The last kernel timestamp seen (`[    1.234567]`), in seconds.
    public var lastKernelTimestamp: Double?
    /// The kernel timestamp when the prompt appeared: the boot time as the kernel counts it.
    public var bootTimeSeconds: Double?
    /// The bootloader's banner line, if one was seen.
    public var bootloaderBanner: String?
    /// The kernel's `Linux version` line, if one was seen.
    public var kernelVersionLine: String?
}

/// Reads a console transcript line by line and tracks stages, fatal events, warnings and kernel
/// timestamps. Pure: feed it the same transcript as it grows, or a stored one at once.
public struct LogAnalyzer: Sendable {
    public private(set) var analysis = LogAnalysis()
    private var nextLine = 0

    public init() {}

    /// Analyzes the complete lines of `transcript` not seen yet; with `includingOpenLine`, the
    /// open last line as well (use at the end of a boot).
    public mutating func consume(_ transcript: ConsoleTranscript, includingOpenLine: Bool = false) {
        while nextLine < transcript.lineCount {
            guard includingOpenLine || transcript.isComplete(nextLine) else { return }
            analyze(transcript.line(nextLine), index: nextLine, timeNanoseconds: transcript.lineTimes[nextLine])
            nextLine += 1
        }
    }

    /// Records that the shell prompt appeared at `timeNanoseconds`.
    public mutating func promptReached(atNanoseconds timeNanoseconds: Int64) {
        reach(.prompt, at: timeNanoseconds)
        analysis.bootTimeSeconds = analysis.lastKernelTimestamp
    }

    /// Records that the boot reached `stage` without a log line saying so (the bootloader was
    /// driven, say).
    public mutating func reach(_ stage: Stage, at timeNanoseconds: Int64) {
        guard stage > analysis.stage else { return }
        analysis.stage = stage
        analysis.stageTimes[stage] = Double(timeNanoseconds) / 1e9
    }

    mutating func analyze(_ line: String, index: Int, timeNanoseconds: Int64) {
        let (timestamp, message) = Self.split(line)
        if let timestamp { analysis.lastKernelTimestamp = timestamp }
        let seconds = Double(timeNanoseconds) / 1e9
        if message.hasPrefix("U-Boot ") && analysis.stage < .bootloader {
            analysis.bootloaderBanner = String(message)
            reach(.bootloader, at: timeNanoseconds)
        } else if message.hasPrefix("Linux version ") || message.hasPrefix("Booting Linux on physical CPU") {
            if analysis.kernelVersionLine == nil, message.hasPrefix("Linux version ") { analysis.kernelVersionLine = String(message) }
            reach(.kernel, at: timeNanoseconds)
        } else if message.hasPrefix("Run /init as init process") || message.hasPrefix("Run /sbin/init")
            || message.hasPrefix("Freeing unused kernel")
        {
            reach(.userspace, at: timeNanoseconds)
        }
        if let kind = Self.eventKind(message) {
            let event = KernelEvent(kind: kind, lineIndex: index, message: String(message), stage: analysis.stage, timeSeconds: seconds)
            if kind == .warning { analysis.warnings.append(event) } else { analysis.fatalEvents.append(event) }
        }
    }

    static func eventKind(_ message: Substring) -> KernelEvent.Kind? {
        if message.hasPrefix("Kernel panic - not syncing") { return .panic }
        if message.hasPrefix("Internal error: Oops") || message.hasPrefix("Oops: ") || message.hasPrefix("Oops - ")
            || message.hasPrefix("Unable to handle kernel")
        {
            return .oops
        }
        if message.hasPrefix("BUG: ") { return .bug }
        if message.hasPrefix("WARNING: CPU: ") || message.hasPrefix("WARNING: at ") { return .warning }
        return nil
    }

    static func eventKind(_ message: String) -> KernelEvent.Kind? { eventKind(Substring(message)) }

    /// Splits `<6>[    1.234567] message` into the timestamp (seconds) and the message.
    public static func split(_ line: String) -> (timestamp: Double?, message: Substring) {
        var rest = Substring(line)
        while rest.first == " " || rest.first == "\r" { rest = rest.dropFirst() }
        if rest.first == "<", let close = rest.firstIndex(of: ">"), rest.distance(from: rest.startIndex, to: close) <= 4,
            rest[rest.index(after: rest.startIndex)..<close].allSatisfy(\.isNumber)
        {
            rest = rest[rest.index(after: close)...]
        }
        guard rest.first == "[", let close = rest.firstIndex(of: "]") else { return (nil, rest) }
        let inside = rest[rest.index(after: rest.startIndex)..<close].trimmingCharacters(in: " ")
        guard let value = Double(inside), inside.contains(".") else { return (nil, rest) }
        var message = rest[rest.index(after: close)...]
        if message.first == " " { message = message.dropFirst() }
        return (value, message)
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: Character) -> Substring {
        var result = self
        while result.first == set { result = result.dropFirst() }
        while result.last == set { result = result.dropLast() }
        return result
    }
}
