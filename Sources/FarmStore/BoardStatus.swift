/// What a board of a lab is doing, as its agent keeps it.
public enum BoardState: String, Sendable, CaseIterable {
    /// Ready for a job.
    case idle
    /// Running a job or a health check.
    case busy
    /// Taken out of service after failed health checks; `lab board NAME --online` brings it back.
    case offline
    /// Taken out of service by hand (`lab board NAME --maintenance on`).
    case maintenance
}

/// How a board did on its last health checks.
public enum BoardHealth: String, Sendable, CaseIterable {
    /// Not checked yet.
    case unknown
    /// Its last health check, or last job, worked.
    case good
    /// An infrastructure error happened: it is health-checked before its next job.
    case suspect
    /// Its last health check failed.
    case failing
}

/// A board's state as stored for `bootfarm lab status`.
public struct BoardStatus: Sendable, Equatable {
    public var lab: String
    public var board: String
    public var state: BoardState
    public var health: BoardHealth
    /// Health checks failed in a row.
    public var healthFailures: Int
    /// The job it runs now.
    public var currentJob: Int?
    /// When the agent switched it on, while it is on (UTC ISO-8601).
    public var poweredSince: String?
    /// The last thing worth saying about it, such as the reason it went offline.
    public var note: String
    public var updatedAt: String

    public init(
        lab: String, board: String, state: BoardState = .idle, health: BoardHealth = .unknown, healthFailures: Int = 0,
        currentJob: Int? = nil, poweredSince: String? = nil, note: String = "", updatedAt: String = ""
    ) {
        self.lab = lab
        self.board = board
        self.state = state
        self.health = health
        self.healthFailures = healthFailures
        self.currentJob = currentJob
        self.poweredSince = poweredSince
        self.note = note
        self.updatedAt = updatedAt
    }
}
