import Foundation

/// Switches a board's power.
public protocol PowerSwitch: Sendable {
    /// Powers the board on.
    func on() async throws
    /// Powers the board off. Must leave the board off whatever happens (ends in a hard stop).
    func off() async throws
    /// Powers the board off, waits, and on again.
    func cycle() async throws
    /// What the switch reports; `.unknown` when the hardware cannot tell.
    func state() async throws -> PowerState
}

extension PowerSwitch {
    public func cycle() async throws {
        try await off()
        // Let supply rails drain before power returns.
        try await Task.sleep(for: .seconds(1))
        try await on()
    }

    public func state() async throws -> PowerState { .unknown }
}

/// A board's power as its switch reports it.
public enum PowerState: String, Sendable, Codable {
    case on, off, unknown
}

/// A power switch that failed: always an infrastructure error.
public enum PowerError: Error, Sendable, CustomStringConvertible {
    /// A program the switch needs is not installed.
    case programMissing(program: String, hint: String)
    /// The emulator (or switch program) exited early.
    case exitedEarly(program: String, status: Int32, output: String)
    /// The switch did not answer in time.
    case timeout(what: String, seconds: Double)
    /// The switch answered, but not as expected.
    case unexpectedAnswer(what: String, answer: String)

    public var description: String {
        switch self {
        case .programMissing(let program, let hint): "\(program) not found in PATH; \(hint)"
        case .exitedEarly(let program, let status, let output):
            "\(program) exited with status \(status)" + (output.isEmpty ? "" : ": \(output)")
        case .timeout(let what, let seconds): "\(what): no answer within \(String(format: "%g", seconds)) s"
        case .unexpectedAnswer(let what, let answer): "\(what): unexpected answer: \(answer)"
        }
    }
}
