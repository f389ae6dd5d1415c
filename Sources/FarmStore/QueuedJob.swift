import FarmCore

/// Where a queued job is in its life.
public enum JobState: String, Sendable, CaseIterable {
    /// Waiting for a board.
    case queued
    /// Running on a board.
    case running
    /// Finished: its final outcome is recorded.
    case done
    /// Canceled before it finished.
    case canceled
}

/// How a job ended, counting all its attempts.
public enum JobOutcome: String, Sendable, CaseIterable {
    /// The kernel booted (to the prompt; tests have their own results).
    case pass
    /// The kernel failed, on every attempt when failures were confirmed.
    case fail
    /// Confirmation boots disagreed: some failed, some passed.
    case flaky
    /// The infrastructure failed on every attempt allowed.
    case error
    /// Canceled by hand, or by the agent stopping.
    case canceled
}

/// A job in the agent's queue, with what happened to it so far.
public struct QueuedJob: Sendable, Equatable {
    /// The queue's number for the job, in submission order.
    public var id: Int
    /// The lab whose agent runs it.
    public var lab: String
    /// The board it is pinned to, if any.
    public var board: String?
    /// The board type it needs.
    public var boardType: String
    public var priority: Int
    public var spec: JobSpec
    public var state: JobState
    /// UTC ISO-8601 times.
    public var submittedAt: String
    public var startedAt: String?
    public var finishedAt: String?
    /// The board running it now, or that ran its last attempt.
    public var runningOn: String?
    /// Boots attempted so far.
    public var attempts: Int
    /// Attempts that ended in a kernel failure (for confirmed failures).
    public var failures: Int
    /// Attempts that ended in an infrastructure error (each retried while retries last).
    public var errors: Int
    /// A board a retry should avoid (the one whose infrastructure failed), when another exists.
    public var avoidBoard: String?
    /// The final outcome once done.
    public var result: JobOutcome?
    /// One line on the outcome, such as `fail confirmed 3/3` or `flaky: 1 of 3 boots failed`.
    public var summary: String
    /// Someone asked to cancel it while it runs.
    public var cancelRequested: Bool
    /// The job file it came from.
    public var source: String

    public init(
        id: Int, lab: String, board: String? = nil, boardType: String, priority: Int = 0, spec: JobSpec, state: JobState = .queued,
        submittedAt: String = "", startedAt: String? = nil, finishedAt: String? = nil, runningOn: String? = nil, attempts: Int = 0,
        failures: Int = 0, errors: Int = 0, avoidBoard: String? = nil, result: JobOutcome? = nil, summary: String = "",
        cancelRequested: Bool = false, source: String = ""
    ) {
        self.id = id
        self.lab = lab
        self.board = board
        self.boardType = boardType
        self.priority = priority
        self.spec = spec
        self.state = state
        self.submittedAt = submittedAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.runningOn = runningOn
        self.attempts = attempts
        self.failures = failures
        self.errors = errors
        self.avoidBoard = avoidBoard
        self.result = result
        self.summary = summary
        self.cancelRequested = cancelRequested
        self.source = source
    }
}

/// What the scheduler needs of a queued job, read without decoding its spec.
public struct JobSlot: Sendable, Equatable {
    public var id: Int
    /// The board it is pinned to, if any.
    public var board: String?
    public var boardType: String
    public var priority: Int
    /// A board a retry should avoid, when another exists.
    public var avoidBoard: String?

    public init(id: Int, board: String? = nil, boardType: String, priority: Int = 0, avoidBoard: String? = nil) {
        self.id = id
        self.board = board
        self.boardType = boardType
        self.priority = priority
        self.avoidBoard = avoidBoard
    }
}
