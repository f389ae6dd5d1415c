import FarmCore
import FarmStore
import Testing

@testable import FarmAgent

@Suite("Board scheduler: who runs what next")
struct BoardSchedulerTests {
    typealias Board = BoardScheduler.Board

    func board(_ name: String, _ type: String = "t", state: BoardState = .idle, health: BoardHealth = .good, checkable: Bool = true)
        -> Board
    {
        Board(name: name, type: type, state: state, health: health, canHealthCheck: checkable)
    }

    func job(_ id: Int, type: String = "t", board: String? = nil, priority: Int = 0, avoid: String? = nil) -> JobSlot {
        JobSlot(id: id, board: board, boardType: type, priority: priority, avoidBoard: avoid)
    }

    @Test func jobsTakeFreeBoardsInQueueOrderOneEach() {
        let plan = BoardScheduler().assign(boards: [board("b1"), board("b2")], jobs: [job(5), job(3), job(4)])
        #expect(plan == [.job(jobID: 5, board: "b1"), .job(jobID: 3, board: "b2")])
    }

    @Test func busyOfflineAndMaintenanceBoardsTakeNothing() {
        let boards = [board("b1", state: .busy), board("b2", state: .offline), board("b3", state: .maintenance), board("b4")]
        #expect(BoardScheduler().assign(boards: boards, jobs: [job(1), job(2)]) == [.job(jobID: 1, board: "b4")])
    }

    @Test func aJobForATypeNeverWaitsOnAnOfflineBoardWhenAnotherIsIdle() {
        let boards = [board("b1", state: .offline), board("b2", "other"), board("b3")]
        #expect(BoardScheduler().assign(boards: boards, jobs: [job(1)]) == [.job(jobID: 1, board: "b3")])
    }

    @Test func aPinnedJobWaitsForItsBoardWithoutBlockingOthers() {
        let boards = [board("b1", state: .busy), board("b2")]
        #expect(BoardScheduler().assign(boards: boards, jobs: [job(1, board: "b1"), job(2)]) == [.job(jobID: 2, board: "b2")])
    }

    @Test func suspectBoardsAreHealthCheckedBeforeTakingJobs() {
        let boards = [board("b1", health: .suspect), board("b2", health: .failing), board("b3")]
        #expect(
            BoardScheduler().assign(boards: boards, jobs: [job(1), job(2)]) == [
                .healthCheck(board: "b1"), .healthCheck(board: "b2"), .job(jobID: 1, board: "b3"),
            ])
    }

    @Test func aTypeWithoutHealthCheckGoesBackToWork() {
        #expect(
            BoardScheduler().assign(boards: [board("b1", health: .suspect, checkable: false)], jobs: [job(1)]) == [
                .job(jobID: 1, board: "b1")
            ])
    }

    @Test func aRetryAvoidsTheBoardThatFailedWhileAnotherUsableOneExists() {
        // b2 is busy: the retry waits for it rather than going back to b1.
        let boards = [board("b1"), board("b2", state: .busy)]
        #expect(BoardScheduler().assign(boards: boards, jobs: [job(1, avoid: "b1"), job(2)]) == [.job(jobID: 2, board: "b1")])
        // With b2 offline, b1 is the only board of the type: the retry runs there.
        let alone = [board("b1"), board("b2", state: .offline)]
        #expect(BoardScheduler().assign(boards: alone, jobs: [job(1, avoid: "b1")]) == [.job(jobID: 1, board: "b1")])
    }
}
