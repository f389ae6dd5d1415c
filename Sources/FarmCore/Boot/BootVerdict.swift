/// How a boot sequence ended, as the state machine saw it (before log analysis refines it).
public struct BootVerdict: Sendable, Equatable {
    public var status: BootStatus
    /// The stage the sequence was in.
    public var stage: Stage
    /// One line: why it did not pass; empty for a pass.
    public var reason: String
    /// True when the verdict is a timeout (the outcome may then name what was on the console).
    public var timedOut: Bool

    public init(status: BootStatus, stage: Stage, reason: String = "", timedOut: Bool = false) {
        self.status = status
        self.stage = stage
        self.reason = reason
        self.timedOut = timedOut
    }
}

/// The outcome of a boot: the state machine's verdict, refined by what the log shows.
public struct BootOutcome: Sendable, Equatable {
    public var status: BootStatus
    public var stage: Stage
    public var reason: String

    /// Combines a verdict with the log analysis.
    ///
    /// - A fatal kernel event (panic, oops, BUG) fails the boot even if a prompt appeared; the
    ///   reason is the event's line and the stage is where it happened.
    /// - A timeout with no console output at all is an infrastructure error at `power`: the board
    ///   never spoke, so the kernel cannot be blamed.
    /// - Infrastructure errors and cancellations stand as they are.
    public static func resolve(_ verdict: BootVerdict, analysis: LogAnalysis, consoleBytes: Int) -> BootOutcome {
        switch verdict.status {
        case .error, .canceled:
            return BootOutcome(status: verdict.status, stage: max(verdict.stage, analysis.stage), reason: verdict.reason)
        case .pass, .fail:
            if let event = analysis.fatalEvents.first {
                return BootOutcome(status: .fail, stage: event.stage, reason: event.message)
            }
            if verdict.timedOut && consoleBytes == 0 {
                return BootOutcome(status: .error, stage: .power, reason: "no console output: \(verdict.reason)")
            }
            return BootOutcome(
                status: verdict.status, stage: verdict.status == .pass ? max(.prompt, verdict.stage) : max(verdict.stage, analysis.stage),
                reason: verdict.reason)
        }
    }
}
