/// Why a simulated lab could not be set up.
public enum SimulationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A PTY, link, folder or file could not be created; `what` names it, `path` says where.
    case cannotCreate(what: String, path: String, reason: String)
    /// A scripted lab needs at least one board.
    case invalidBoardCount(Int)
    /// A failure was assigned to a board the lab does not have.
    case unknownBoard(name: String, boardCount: Int)

    public var description: String {
        switch self {
        case .cannotCreate(let what, let path, let reason):
            "cannot create \(what)\(path.isEmpty ? "" : " at \(path)"): \(reason)"
        case .invalidBoardCount(let count):
            "a scripted lab needs at least one board, not \(count)"
        case .unknownBoard(let name, let boardCount):
            "no board '\(name)' in a lab of \(boardCount) scripted boards (\(ScriptedLab.boardName(1, boardCount: boardCount))"
                + (boardCount > 1 ? " to \(ScriptedLab.boardName(boardCount, boardCount: boardCount)))" : ")")
        }
    }
}
