import FarmCore
import Foundation
import Testing

@testable import FarmStore

@Suite("the job queue, board states and test results in the store")
struct JobQueueTests {
    static let board = BoardType(
        name: "t", arch: "arm64", qemu: nil, bootMethod: .uBoot, uBoot: nil, kernelImageKind: .image, consoleDevice: "ttyAMA0",
        bootArguments: "", shellPrompt: "/ # ", timeouts: StageTimeouts())

    static let boards = ["b1", "b2", "b3"].map {
        BoardConfig(
            name: $0, type: board, power: .command(on: "true", off: "true", cycle: nil, timeoutSeconds: 1),
            console: .tcp(host: "h", port: 1), tftpRoot: "/t")
    }

    func spec(_ target: JobSpec.Target, priority: Int = 0) -> JobSpec {
        JobSpec(
            target: target, kernel: JobArtifact(location: "/k", sha256: nil), priority: priority,
            tests: [TestDefinition(name: "uname", command: "uname -a", timeoutSeconds: 5)])
    }

    @Test func jobsComeOutByPriorityThenAgeAndSurviveTheRoundTrip() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("s.sqlite"))
        let low = try store.submit(spec(.boardType("t", allBoards: false)), lab: "lab", boards: Self.boards, source: "low.yaml")
        let high = try store.submit(spec(.board("b2"), priority: 5), lab: "lab", boards: Self.boards, source: "high.yaml")
        let fan = try store.submit(spec(.boardType("t", allBoards: true), priority: 1), lab: "lab", boards: Self.boards, source: "fan.yaml")
        #expect(fan.count == 3)
        let order = try store.runnableJobs(lab: "lab").map(\.id)
        #expect(order == high + fan + low)
        let pinned = try #require(try store.job(id: high[0]))
        #expect(pinned.board == "b2" && pinned.spec == spec(.board("b2"), priority: 5) && pinned.source == "high.yaml")
        #expect(try store.job(id: fan[2])?.board == "b3")
        #expect(try store.runnableJobs(lab: "other").isEmpty)
    }

    @Test func cancelingDequeuesWaitingJobsAndFlagsRunningOnes() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("s.sqlite"))
        let ids = try store.submit(spec(.boardType("t", allBoards: true)), lab: "lab", boards: Self.boards, source: "j.yaml")
        var running = try #require(try store.job(id: ids[1]))
        running.state = .running
        try store.update(running)
        #expect(try store.cancelJob(id: ids[0]) == .dequeued)
        #expect(try store.cancelJob(id: ids[1]) == .requested)
        #expect(try store.cancelJob(id: ids[0]) == .alreadyFinished(.canceled))
        #expect(try store.cancelJob(id: 999) == .unknown)
        #expect(try store.cancelRequests(lab: "lab") == [ids[1]])
        #expect(try store.runnableJobs(lab: "lab").map(\.id) == [ids[2]])
    }

    @Test func supersededAttemptsAreKeptButNotCounted() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("s.sqlite"))
        let revision = Revision(tree: "mainline", branch: "master", describe: "v1")
        for (id, status) in [("a1", BootStatus.error), ("a2", .pass)] {
            try store.insert(
                BootRecord(
                    id: id, lab: "lab", board: "b1", boardType: "t", revision: revision, build: Build(), startedAt: "2024-01-01T00:00:00Z",
                    status: status, stage: .prompt))
            try store.link(bootID: id, jobID: 7, attempt: id == "a1" ? 1 : 2)
        }
        try store.markSuperseded(bootIDs: ["a1"])
        #expect(try store.boots(BootFilter(tree: "mainline")).map(\.id) == ["a2"])
        #expect(try store.boots(BootFilter(tree: "mainline", includeSuperseded: true)).map(\.id) == ["a1", "a2"])
        #expect(try store.bootIDs(jobID: 7) == ["a1", "a2"])
        let tests = [
            TestCase(name: "uname", result: .pass, output: "Linux"), TestCase(name: "probe", result: .skip, measurement: 1.5, units: "ms"),
        ]
        try store.saveTests(tests, bootID: "a2")
        #expect(try store.tests(bootID: "a2") == tests)
    }

    @Test func boardStatesAndTheAgentRegistrationRoundTrip() throws {
        let folder = try TemporaryFolder()
        let store = try ResultStore(path: folder.file("s.sqlite"))
        try store.save(BoardStatus(lab: "lab", board: "b1", state: .offline, health: .failing, healthFailures: 3, note: "dead"))
        try store.save(BoardStatus(lab: "lab", board: "b2", state: .busy, currentJob: 4, poweredSince: "2024-01-01T00:00:00Z"))
        let statuses = try store.boardStatuses(lab: "lab")
        #expect(statuses["b1"]?.state == .offline && statuses["b1"]?.healthFailures == 3 && statuses["b1"]?.note == "dead")
        #expect(statuses["b2"]?.currentJob == 4 && statuses["b2"]?.poweredSince != nil)
        try store.registerAgent(lab: "lab", pid: 4242)
        #expect(try store.agent(lab: "lab")?.pid == 4242)
        try store.unregisterAgent(lab: "lab")
        #expect(try store.agent(lab: "lab") == nil)
    }

    @Test func aVersion4StoreMigratesKeepingItsBoots() throws {
        let folder = try TemporaryFolder()
        let path = folder.file("old.sqlite")
        do {
            let database = try SQLiteDatabase(path: path)
            for version in 0..<4 { try database.execute(StoreSchema.migrations[version]) }
            try database.execute("PRAGMA user_version = 4")
            try database.execute(
                "INSERT INTO boots (id, lab, board, board_type, started_at, status, stage) VALUES ('old', 'lab', 'b', 't', '2024-01-01T00:00:00Z', 'pass', 'prompt')"
            )
        }
        let store = try ResultStore(path: path)
        #expect(try store.boots(BootFilter()).map(\.id) == ["old"])
        #expect(try store.runnableJobs(lab: "lab").isEmpty)
    }
}
