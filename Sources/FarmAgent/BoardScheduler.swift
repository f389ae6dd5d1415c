import FarmStore

/// Decides what each free board does next. Pure: boards and queue in, assignments out.
///
/// - A board takes one thing at a time, and only when `idle`.
/// - A board whose last job ended in an infrastructure error (`suspect`) or whose last health
///   check failed runs its type's health check before any job; a type without a health check
///   cannot be checked, so its boards go back to work.
/// - Jobs go in queue order (highest priority, then oldest). A job pinned to a board waits for
///   it; any other job takes the first free board of its type, but not the board a retry should
///   avoid while another usable board of the type exists (one that is not offline or in
///   maintenance).
public struct BoardScheduler: Sendable {
    /// A board as the scheduler sees it.
    public struct Board: Sendable, Equatable {
        public var name: String
        public var type: String
        public var state: BoardState
        public var health: BoardHealth
        /// Whether its type defines a health check.
        public var canHealthCheck: Bool

        public init(name: String, type: String, state: BoardState, health: BoardHealth, canHealthCheck: Bool) {
            self.name = name
            self.type = type
            self.state = state
            self.health = health
            self.canHealthCheck = canHealthCheck
        }

        var needsHealthCheck: Bool { canHealthCheck && (health == .suspect || health == .failing) }
        var isUsable: Bool { state == .idle || state == .busy }
    }

    /// Something to start.
    public enum Assignment: Sendable, Equatable {
        /// Run queued job `jobID` on `board`.
        case job(jobID: Int, board: String)
        /// Health-check `board`.
        case healthCheck(board: String)
    }

    public init() {}

    /// What to start now. `boards` in lab order; `jobs` in queue order.
    public func assign(boards: [Board], jobs: [JobSlot]) -> [Assignment] {
        var assignments: [Assignment] = []
        var free: [Board] = []
        for board in boards where board.state == .idle {
            if board.needsHealthCheck {
                assignments.append(.healthCheck(board: board.name))
            } else {
                free.append(board)
            }
        }
        for job in jobs where !free.isEmpty {
            let candidates: [Board]
            if let pinned = job.board {
                candidates = free.filter { $0.name == pinned }
            } else {
                let ofType = free.filter { $0.type == job.boardType }
                if let avoid = job.avoidBoard,
                    boards.contains(where: { $0.type == job.boardType && $0.name != avoid && $0.isUsable })
                {
                    candidates = ofType.filter { $0.name != avoid }
                } else {
                    candidates = ofType
                }
            }
            guard let chosen = candidates.first else { continue }
            assignments.append(.job(jobID: job.id, board: chosen.name))
            free.removeAll { $0.name == chosen.name }
        }
        return assignments
    }
}
