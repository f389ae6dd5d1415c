import FarmCore
import FarmStore

/// Something the lab agent tells the person or script watching it.
public enum AgentEvent: Sendable {
    /// The agent took over the lab; `recovered` jobs were found running from a crashed agent.
    case started(boards: Int, recovered: [Int])
    /// A job attempt or a health check started on a board (`jobID` nil for a health check).
    case attemptStarted(board: String, jobID: Int?, attempt: Int)
    /// Progress of the boot on a board.
    case progress(board: String, jobID: Int?, BootProgress)
    /// A boot finished and was recorded.
    case attemptFinished(board: String, jobID: Int?, record: BootRecord, tests: [TestCase])
    /// A job reached its final outcome.
    case jobFinished(QueuedJob)
    /// A job will run again (`reason` says why).
    case jobRetried(QueuedJob, reason: String)
    /// A board changed state or health.
    case boardChanged(BoardStatus)
    /// The agent is stopping: running jobs are being canceled.
    case stopping(running: Int)
    /// The background upload to the results `server` made progress or hit a problem.
    case upload(server: String, OutboxProgress)
}
