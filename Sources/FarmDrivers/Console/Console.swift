import FarmCore

/// A board's serial console: a byte stream in both directions, recorded as a transcript.
public protocol Console: AnyObject, Sendable {
    /// Opens the console; every byte received from now on is recorded, stamped with `clock`.
    func open(clock: BootClock) async throws
    /// Waits until one of `patterns` appears after everything already consumed, or until
    /// `deadline` (seconds on the boot clock) passes.
    func expect(_ patterns: [ConsolePattern], deadline: Double) async throws -> ConsoleExpectation
    /// Sends text, pausing `characterDelayMilliseconds` after each byte (real UARTs drop fast input).
    func send(_ text: String, characterDelayMilliseconds: Int) async throws
    /// Closes the console. Safe to call more than once.
    func close() async
    /// Everything received so far.
    var transcript: ConsoleTranscript { get }
}

/// What `Console.expect` found.
public enum ConsoleExpectation: Sendable, Equatable {
    /// A pattern matched; `output` is the text received since the previous match up to this one.
    case matched(ConsoleMatch, output: String)
    /// The deadline passed first.
    case timedOut
}
