import FarmCore
import FarmDrivers
import FarmStore
import Foundation
import Logging

/// Runs a lab unattended: takes queued jobs from the store, runs each on a free board of its
/// type (one job per board at a time), health-checks boards after infrastructure errors, takes
/// boards offline after repeated failed checks, retries infrastructure errors and confirms
/// kernel failures when a job asks.
///
/// All state changes happen on one loop that reads an inbox of events (timer ticks, finished
/// boots, a stop request), so no two decisions race; boots run as separate tasks. Every state is
/// written to the store at once, so `bootfarm lab status` sees it and a restarted agent can
/// recover: jobs that were running are recorded as `error` (agent restarted) and boards that
/// were on are switched off.
public final class LabAgent: @unchecked Sendable {
    /// How the agent behaves.
    public struct Options: Sendable {
        /// How often the queue is read for new jobs and cancel requests, in seconds.
        public var pollSeconds: Double = 0.5
        /// Stop once nothing runs and nothing queued can run (for scripts and tests).
        public var exitWhenIdle = false
        /// Where downloaded kernels are cached.
        public var cacheFolder: String

        public init(cacheFolder: String, pollSeconds: Double = 0.5, exitWhenIdle: Bool = false) {
            self.cacheFolder = cacheFolder
            self.pollSeconds = pollSeconds
            self.exitWhenIdle = exitWhenIdle
        }
    }

    public let lab: LabConfig
    public let store: ResultStore
    public let options: Options
    /// Uploads the lab's boots to its results server in the background, if it has one.
    public let uploader: OutboxUploader?
    public var logger = Logger(label: "bootfarm.agent")
    /// The threads that read every board's power meter (they run only while a metered boot does).
    public let samplingThread = PowerSamplingThread(name: "bootfarm power")
    /// The thread that reads every board's buffered IIO meter (it runs only while one records).
    public let bufferReader = IIOBufferReader(name: "bootfarm iio buffers")
    private let onEvent: @Sendable (AgentEvent) -> Void
    private let inbox: AsyncStream<Inbox>
    private let inboxInput: AsyncStream<Inbox>.Continuation
    // Wakes the uploader: after each recorded boot and on every tick. One pending wake-up is
    // enough however many arrive while it uploads.
    private let uploadWakeUps: AsyncStream<Void>
    private let uploadWake: AsyncStream<Void>.Continuation

    private enum Inbox: Sendable {
        case tick
        case finished(board: String, result: BootResult)
        case stop
    }

    private struct Running {
        var jobID: Int?
        var attempt: Int
        var task: Task<Void, Never>
        var canceledByRequest = false
    }

    // Loop state: touched only by `run()`'s loop.
    private var statuses: [String: BoardStatus] = [:]
    private var running: [String: Running] = [:]
    private var stopping = false

    /// An agent for `lab`; with an `uploader`, every job's boot is queued for its server as it is
    /// stored and uploaded in the background (the server being away never stops a boot).
    public init(
        lab: LabConfig, store: ResultStore, options: Options, uploader: OutboxUploader? = nil,
        onEvent: @escaping @Sendable (AgentEvent) -> Void = { _ in }
    ) {
        self.lab = lab
        self.store = store
        self.options = options
        self.uploader = uploader
        self.onEvent = onEvent
        (inbox, inboxInput) = AsyncStream.makeStream(of: Inbox.self)
        (uploadWakeUps, uploadWake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks the agent to stop: running jobs are canceled (recorded as canceled, boards powered
    /// off) and `run()` returns once they are.
    public func stop() { inboxInput.yield(.stop) }

    /// Runs until `stop()` (or, with `exitWhenIdle`, until there is nothing left to do).
    public func run() async throws {
        if let other = try store.agent(lab: lab.name), other.pid != getpid(), kill(other.pid, 0) == 0 {
            throw AgentError.alreadyRunning(lab: lab.name, pid: other.pid)
        }
        try store.registerAgent(lab: lab.name, pid: getpid())
        let recovered = try await recover()
        onEvent(.started(boards: lab.boards.count, recovered: recovered))

        let pollSeconds = options.pollSeconds
        let ticker = Task { [inboxInput] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(pollSeconds))
                inboxInput.yield(.tick)
            }
        }
        defer { ticker.cancel() }
        let uploads = startUploads()
        defer { uploads?.cancel() }
        var lastHeartbeat = Date()
        try schedule()

        loop: for await event in inbox {
            switch event {
            case .tick:
                uploadWake.yield()
                try cancelRequested()
                if stopping { break }
                try reloadStatuses()
                try schedule()
                if Date().timeIntervalSince(lastHeartbeat) > 5 {
                    try store.agentHeartbeat(lab: lab.name)
                    lastHeartbeat = Date()
                }
                if options.exitWhenIdle && running.isEmpty { break loop }
            case .finished(let board, let result):
                try finished(board: board, result: result)
                uploadWake.yield()
                if stopping {
                    if running.isEmpty { break loop }
                } else {
                    try schedule()
                    if options.exitWhenIdle && running.isEmpty { break loop }
                }
            case .stop:
                if !stopping {
                    stopping = true
                    onEvent(.stopping(running: running.count))
                    for entry in running.values { entry.task.cancel() }
                }
                if running.isEmpty { break loop }
            }
        }
        await finishUploads(uploads)
        try store.unregisterAgent(lab: lab.name)
    }

    // MARK: Uploads

    private func startUploads() -> Task<Void, Never>? {
        guard let uploader else { return nil }
        let onEvent = onEvent
        let wakeUps = uploadWakeUps
        return Task { await uploader.run(wakeUps: wakeUps) { onEvent(.upload(server: uploader.server, $0)) } }
    }

    /// Lets the uploader send what the last boots left (when the agent ran out of work), or
    /// cancels it (when asked to stop).
    private func finishUploads(_ uploads: Task<Void, Never>?) async {
        uploadWake.finish()
        if stopping { uploads?.cancel() }
        await uploads?.value
    }

    // MARK: Recovery

    /// Finds what a crashed agent left: running jobs become `error` (agent restarted), boards it
    /// had on are switched off and health-checked before their next job.
    private func recover() async throws -> [Int] {
        statuses = try store.boardStatuses(lab: lab.name)
        var recovered: [Int] = []
        for var job in try store.jobs(lab: lab.name, states: [.running]) {
            let boardName = job.runningOn ?? job.board ?? ""
            let board = lab.board(named: boardName)
            let record = BootRecord(
                id: UUID().uuidString.lowercased(), lab: lab.name, board: boardName, boardType: board?.type.name ?? job.boardType,
                revision: job.spec.revision, build: job.spec.build,
                startedAt: job.startedAt ?? ISOTimestamp.format(Date().timeIntervalSince1970),
                finishedAt: ISOTimestamp.format(Date().timeIntervalSince1970), status: .error, stage: .power, reason: "agent restarted")
            try store.insert(record, outbox: uploader?.server)
            try store.link(bootID: record.id, jobID: job.id, attempt: job.attempts)
            job.state = .done
            job.result = .error
            job.errors += 1
            job.finishedAt = record.finishedAt
            job.summary = "error: agent restarted while it ran"
            try store.update(job)
            recovered.append(job.id)
        }
        for board in lab.boards {
            var status = statuses[board.name] ?? BoardStatus(lab: lab.name, board: board.name)
            if status.poweredSince != nil || status.state == .busy {
                do {
                    let power = try JobRunner.powerSwitch(for: board, runDirectory: FileManager.default.temporaryDirectory.path)
                    try await power.off()
                    status.note = "switched off after an agent restart"
                } catch {
                    status.note = "could not switch off after an agent restart: \(error)"
                }
                status.poweredSince = nil
                status.currentJob = nil
                if status.state == .busy { status.state = .idle }
                status.health = .suspect
            }
            statuses[board.name] = status
            try store.save(status)
        }
        return recovered
    }

    // MARK: Scheduling

    /// Picks up maintenance and offline changes made by hand on boards that are not running.
    private func reloadStatuses() throws {
        let stored = try store.boardStatuses(lab: lab.name)
        for (name, status) in stored where running[name] == nil { statuses[name] = status }
    }

    private func schedule() throws {
        guard !stopping else { return }
        let boards = lab.boards.map { board in
            let status = statuses[board.name] ?? BoardStatus(lab: lab.name, board: board.name)
            return BoardScheduler.Board(
                name: board.name, type: board.type.name, state: running[board.name] == nil ? status.state : .busy,
                health: status.health, canHealthCheck: board.type.healthCheck != nil)
        }
        guard boards.contains(where: { $0.state == .idle }) else { return }
        let jobs = try store.runnableJobs(lab: lab.name)
        for assignment in BoardScheduler().assign(boards: boards, jobs: jobs) {
            switch assignment {
            case .healthCheck(let name):
                guard let board = lab.board(named: name), let check = board.type.healthCheck else { continue }
                let spec = JobSpec(
                    target: .board(name), kernel: JobArtifact(location: check.kernel),
                    ramdisk: check.ramdisk.map { JobArtifact(location: $0) },
                    dtb: check.dtb.map { JobArtifact(location: $0) }, prompt: check.prompt,
                    revision: Revision(tree: "health-check", branch: board.type.name), build: Build(arch: board.type.arch))
                try start(spec, on: board, jobID: nil, attempt: 1)
            case .job(let jobID, let name):
                guard let board = lab.board(named: name), var job = try store.job(id: jobID), job.state == .queued else { continue }
                job.state = .running
                job.attempts += 1
                job.runningOn = name
                if job.startedAt == nil { job.startedAt = ISOTimestamp.format(Date().timeIntervalSince1970) }
                try store.update(job)
                try start(job.spec, on: board, jobID: job.id, attempt: job.attempts)
            }
        }
    }

    private func start(_ spec: JobSpec, on board: BoardConfig, jobID: Int?, attempt: Int) throws {
        var status = statuses[board.name] ?? BoardStatus(lab: lab.name, board: board.name)
        status.state = .busy
        status.currentJob = jobID
        // Written before the power goes on: a crash from here on leaves a record to switch it off.
        status.poweredSince = ISOTimestamp.format(Date().timeIntervalSince1970)
        statuses[board.name] = status
        try store.save(status)
        onEvent(.attemptStarted(board: board.name, jobID: jobID, attempt: attempt))

        let labName = lab.name
        let cache = ArtifactCache(folder: options.cacheFolder)
        let settings = lab.agent
        let onEvent = onEvent
        let samplingThread = samplingThread
        let bufferReader = bufferReader
        let task = Task { [inboxInput] in
            let result = await Self.execute(
                spec, lab: labName, board: board, cache: cache, settings: settings, samplingThread: samplingThread,
                bufferReader: bufferReader,
                progress: { onEvent(.progress(board: board.name, jobID: jobID, $0)) })
            inboxInput.yield(.finished(board: board.name, result: result))
        }
        running[board.name] = Running(jobID: jobID, attempt: attempt, task: task)
    }

    /// Fetches the job's files and boots it, within its overall timeout. Never throws.
    static func execute(
        _ spec: JobSpec, lab: String, board: BoardConfig, cache: ArtifactCache, settings: AgentSettings,
        samplingThread: PowerSamplingThread? = nil, bufferReader: IIOBufferReader? = nil,
        progress: @escaping @Sendable (BootProgress) -> Void
    ) async -> BootResult {
        let kernel: String
        let ramdisk: String?
        let dtb: String?
        do {
            kernel = try await cache.localPath(for: spec.kernel)
            ramdisk = try await spec.ramdisk.asyncMap { try await cache.localPath(for: $0) }
            dtb = try await spec.dtb.asyncMap { try await cache.localPath(for: $0) }
        } catch {
            return JobRunner.unstartedResult(lab: lab, board: board, spec: spec, status: .error, reason: "\(error)")
        }
        if Task.isCancelled { return JobRunner.unstartedResult(lab: lab, board: board, spec: spec, status: .canceled, reason: "canceled") }
        let job = BootJob(
            kernel: kernel, ramdisk: ramdisk, dtb: dtb, prompt: spec.prompt, extraBootArguments: spec.bootArguments,
            timeouts: spec.stageTimeouts, revision: spec.revision, build: spec.build, tests: spec.tests)
        var runner = JobRunner(lab: lab, board: board, job: job)
        runner.consoleReturnSeconds = settings.consoleReturnSeconds
        runner.samplingThread = samplingThread
        runner.bufferReader = bufferReader
        let boot = Task { await runner.run(progress: progress) }
        let timedOut = Flag()
        let timeout = spec.timeoutSeconds
        let watchdog = Task {
            try await Task.sleep(for: .seconds(timeout))
            timedOut.set()
            boot.cancel()
        }
        var result = await withTaskCancellationHandler {
            await boot.value
        } onCancel: {
            boot.cancel()
        }
        watchdog.cancel()
        if timedOut.isSet && result.record.status == .canceled {
            result.record.status = .fail
            result.record.reason = "job timed out after \(Int(timeout)) s in stage \(result.record.stage.rawValue)"
        }
        return result
    }

    // MARK: Outcomes

    private func cancelRequested() throws {
        let requests = try store.cancelRequests(lab: lab.name)
        guard !requests.isEmpty else { return }
        for (board, entry) in running where entry.jobID.map(requests.contains) == true && !entry.canceledByRequest {
            running[board]?.canceledByRequest = true
            entry.task.cancel()
        }
    }

    private func finished(board name: String, result: BootResult) throws {
        guard let entry = running.removeValue(forKey: name), let board = lab.board(named: name) else { return }
        var record = result.record
        if stopping && record.status == .canceled && record.reason == "canceled" { record.reason = "canceled: the agent stopped" }
        // A job's boot is shared with the server; a health check tests the board, not a kernel.
        try store.insert(record, log: result.transcript, power: result.power, outbox: entry.jobID == nil ? nil : uploader?.server)
        if let jobID = entry.jobID {
            try store.link(bootID: record.id, jobID: jobID, attempt: entry.attempt)
            if !result.tests.isEmpty { try store.saveTests(result.tests, bootID: record.id) }
        }
        onEvent(.attemptFinished(board: name, jobID: entry.jobID, record: record, tests: result.tests))

        // The board: off, and its health follows what happened.
        var status = try store.boardStatus(lab: lab.name, board: name) ?? statuses[name] ?? BoardStatus(lab: lab.name, board: name)
        let before = (status.state, status.health)
        status.poweredSince = nil
        status.currentJob = nil
        if status.state == .busy { status.state = .idle }
        if entry.jobID == nil {
            switch record.status {
            case .pass:
                status.health = .good
                status.healthFailures = 0
                status.note = "health check passed"
            case .canceled:
                break
            case .fail, .error:
                status.health = .failing
                status.healthFailures += 1
                status.note = "health check \(status.healthFailures) failed: \(record.reason)"
                if status.healthFailures >= lab.agent.healthFailuresOffline && status.state == .idle {
                    status.state = .offline
                    status.note = "offline after \(status.healthFailures) failed health checks; last: \(record.reason)"
                }
            }
        } else {
            switch record.status {
            case .error:
                status.health = .suspect
                status.note = "infrastructure error: \(record.reason)"
            case .pass, .fail:
                // The infrastructure worked (a kernel failure is not the board's fault).
                if status.health == .unknown || status.health == .suspect { status.health = .good }
            case .canceled:
                break
            }
        }
        statuses[name] = status
        try store.save(status)
        if before != (status.state, status.health) { onEvent(.boardChanged(status)) }

        guard let jobID = entry.jobID, var job = try store.job(id: jobID) else { return }
        try advance(&job, record: record, board: board, canceledByRequest: entry.canceledByRequest)
    }

    /// Moves a job on after an attempt: done, retried elsewhere, or booted again to confirm.
    private func advance(_ job: inout QueuedJob, record: BootRecord, board: BoardConfig, canceledByRequest: Bool) throws {
        let now = ISOTimestamp.format(Date().timeIntervalSince1970)
        func finish(_ outcome: JobOutcome, _ summary: String) throws {
            job.state = outcome == .canceled ? .canceled : .done
            job.result = outcome
            job.summary = summary
            job.finishedAt = now
            try store.update(job)
            onEvent(.jobFinished(job))
        }
        func again(_ reason: String) throws {
            job.state = .queued
            try store.update(job)
            onEvent(.jobRetried(job, reason: reason))
        }
        let confirming = job.failures > 0
        switch record.status {
        case .canceled:
            try finish(.canceled, canceledByRequest ? "canceled by request" : record.reason)
        case .error:
            job.errors += 1
            let allowed = job.spec.retries ?? lab.agent.retries
            if job.errors <= allowed && !stopping {
                // The failed attempt is kept but not counted: the retry stands for it.
                try store.markSuperseded(bootIDs: [record.id])
                job.avoidBoard = board.name
                try again("infrastructure error on \(board.name) (\(record.reason)); retry \(job.errors) of \(allowed)")
            } else if confirming {
                try finish(
                    .fail, "fail confirmed \(job.failures)/\(job.failures + passes(job)) before an infrastructure error: \(record.reason)")
            } else {
                try finish(.error, job.errors > 1 ? "error after \(job.errors) attempts: \(record.reason)" : "error: \(record.reason)")
            }
        case .fail, .pass:
            if record.status == .fail { job.failures += 1 }
            let boots = job.attempts - job.errors
            let wanted = 1 + job.spec.confirmFailures
            if job.failures > 0 && job.spec.confirmFailures > 0 && boots < wanted && !stopping {
                job.avoidBoard = nil
                try again("confirming a failure: boot \(boots + 1) of \(wanted)")
            } else if job.failures == 0 {
                try finish(.pass, "pass")
            } else if job.failures == boots {
                try finish(.fail, boots > 1 ? "fail confirmed \(job.failures)/\(boots)" : "fail: \(record.reason)")
            } else {
                try finish(.flaky, "flaky: \(job.failures) of \(boots) boots failed")
            }
        }
    }

    private func passes(_ job: QueuedJob) -> Int { job.attempts - job.errors - job.failures }
}

/// Why the agent cannot run.
public enum AgentError: Error, Sendable, CustomStringConvertible {
    /// Another agent process runs the lab on the same store.
    case alreadyRunning(lab: String, pid: Int32)

    public var description: String {
        switch self {
        case .alreadyRunning(let lab, let pid):
            "an agent already runs lab \(lab) on this store (process \(pid)); stop it first, or use another --db"
        }
    }
}

/// A flag set once from any thread.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
