import FarmCore
import FarmStore
import Foundation
import Testing

@testable import FarmAgent

/// Collects what an upload reports.
final class ProgressLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [OutboxProgress] = []

    func append(_ event: OutboxProgress) { lock.withLock { events.append(event) } }
    var all: [OutboxProgress] { lock.withLock { events } }
}

@Suite("uploading the outbox to a live results server", .serialized)
struct OutboxUploaderTests {
    /// A boot of `lab` with a revision and, when given, a console log.
    static func queue(
        _ id: String, in store: ResultStore, server: String, lab: String = "lab-a", minute: Int = 0, tree: String = "mainline",
        log: String? = "U-Boot 2024.01\nLinux version 6.9\n"
    ) throws {
        let record = BootRecord(
            id: id, lab: lab, board: "b1", boardType: "qemu-arm64", revision: Revision(tree: tree, branch: "master", describe: "v6.9"),
            build: Build(arch: "arm64"), startedAt: String(format: "2024-03-01T%02d:%02d:00Z", minute / 60, minute % 60), status: .pass,
            stage: .prompt)
        var transcript: ConsoleTranscript?
        if let log {
            transcript = ConsoleTranscript()
            transcript?.append(Array(log.utf8), at: 0)
        }
        try store.insert(record, log: transcript, outbox: server)
    }

    @Test func everyQueuedBootIsUploadedInBatchesWithItsLog() async throws {
        let fixture = try LiveResultsServer()
        try await fixture.run { url async throws in
            for index in 0..<25 { try Self.queue("boot-\(index)", in: fixture.labStore, server: url, minute: index) }
            let uploader = OutboxUploader(
                store: fixture.labStore, server: url, token: fixture.labToken.text, options: OutboxUploader.Options(batchSize: 10))
            let progress = ProgressLog()
            let report = try await uploader.drain { progress.append($0) }
            #expect(report == OutboxDrainReport(uploaded: 25, rejected: 0, ending: .drained))
            #expect(
                progress.all == [.uploaded(count: 10, pending: 15), .uploaded(count: 10, pending: 5), .uploaded(count: 5, pending: 0)])
            #expect(try fixture.store.count() == 25)
            #expect(try fixture.store.boot(id: "boot-7")?.startedAt == "2024-03-01T00:07:00Z")
            #expect(try fixture.store.log(bootID: "boot-7")?.bytes == Array("U-Boot 2024.01\nLinux version 6.9\n".utf8))
            #expect(try fixture.labStore.outboxEntries().isEmpty)
            #expect(try fixture.labStore.count() == 25, "the lab keeps its boots")
        }
    }

    @Test func aBootsPowerTraceAndTestsTravelWithIt() async throws {
        let fixture = try LiveResultsServer()
        try await fixture.run { url async throws in
            let record = BootRecord(
                id: "metered", lab: "lab-a", board: "b1", boardType: "qemu-arm64",
                revision: Revision(tree: "mainline", branch: "master", describe: "v6.9"), build: Build(arch: "arm64"),
                startedAt: "2024-03-01T00:00:00Z", status: .pass, stage: .prompt, energyJoules: 0.2)
            let trace = try PowerTrace(
                (0..<100).map {
                    PowerSample(timeNanoseconds: Int64($0) * 10_000_000, powerMicrowatts: 2_000_000, voltageMicrovolts: 5_000_000)
                })
            let power = BootPower(trace: trace, stageEnergyJoules: [.kernel: 0.12, .userspace: 0.08], lostSamples: 2, warnings: ["late"])
            try fixture.labStore.insert(record, power: power, outbox: url)
            let tests = [TestCase(name: "boot-time", result: .pass, measurement: 3.5, units: "s"), TestCase(name: "dmesg", result: .fail)]
            try fixture.labStore.saveTests(tests, bootID: "metered")
            let uploader = OutboxUploader(store: fixture.labStore, server: url, token: fixture.labToken.text)
            #expect(try await uploader.drain().uploaded == 1)
            #expect(try fixture.store.power(bootID: "metered") == power)
            #expect(try fixture.store.tests(bootID: "metered") == tests)
        }
    }

    @Test func aRefusedTokenStopsTheDrainAndKeepsEveryBootPending() async throws {
        let fixture = try LiveResultsServer()
        try await fixture.run { url async throws in
            for index in 0..<3 { try Self.queue("boot-\(index)", in: fixture.labStore, server: url, minute: index) }
            let uploader = OutboxUploader(store: fixture.labStore, server: url, token: "bft_wrong")
            let report = try await uploader.drain()
            guard case .unauthorized(let message) = report.ending else {
                Issue.record("expected a refused token, got \(report.ending)")
                return
            }
            #expect(message.hasPrefix("HTTP 401"), "\(message)")
            #expect(report.uploaded == 0 && report.rejected == 0)
            #expect(try fixture.store.count() == 0)
            let summary = try fixture.labStore.outboxSummary(server: url)
            #expect(summary.pending == 3 && summary.rejected == 0)
            #expect(summary.lastError?.hasPrefix("HTTP 401") == true)
        }
    }

    @Test func aBadBootInABatchIsIsolatedAndRejectedWhileTheOthersLand() async throws {
        let fixture = try LiveResultsServer()
        try await fixture.run { url async throws in
            for index in 0..<8 {
                switch index {
                case 2: try Self.queue("other-lab", in: fixture.labStore, server: url, lab: "lab-b", minute: index)
                case 5: try Self.queue("no-tree", in: fixture.labStore, server: url, minute: index, tree: "")
                default: try Self.queue("boot-\(index)", in: fixture.labStore, server: url, minute: index)
                }
            }
            let uploader = OutboxUploader(
                store: fixture.labStore, server: url, token: fixture.labToken.text, options: OutboxUploader.Options(batchSize: 8))
            let progress = ProgressLog()
            let report = try await uploader.drain { progress.append($0) }
            #expect(report == OutboxDrainReport(uploaded: 6, rejected: 2, ending: .drained))
            #expect(try fixture.store.count() == 6)
            #expect(try fixture.store.boot(id: "other-lab") == nil && fixture.store.boot(id: "no-tree") == nil)

            let rejected = Dictionary(
                uniqueKeysWithValues: try fixture.labStore.outboxEntries(state: .rejected).map { ($0.bootID, $0.lastError) })
            #expect(rejected.keys.sorted() == ["no-tree", "other-lab"])
            #expect(rejected["other-lab"]?.hasPrefix("HTTP 403: ") == true, "\(rejected)")
            #expect(rejected["no-tree"]?.contains("HTTP 400: [0].tree") == true, "\(rejected)")
            #expect(progress.all.contains(.rejected(bootID: "other-lab", message: rejected["other-lab"] ?? "")))
            #expect(try fixture.labStore.pendingUploadCount(server: url) == 0)
        }
    }

    @Test func aBatchOverTheBodyLimitIsSplitAndABootTooLargeAloneIsRejected() async throws {
        let fixture = try LiveResultsServer(maximumBodyBytes: 4096)
        try await fixture.run { url async throws in
            let line = String(repeating: "x", count: 79) + "\n"
            for index in 0..<4 {
                try Self.queue("boot-\(index)", in: fixture.labStore, server: url, minute: index, log: String(repeating: line, count: 15))
            }
            try Self.queue("huge", in: fixture.labStore, server: url, minute: 9, log: String(repeating: line, count: 100))
            let uploader = OutboxUploader(store: fixture.labStore, server: url, token: fixture.labToken.text)
            let report = try await uploader.drain()
            #expect(report == OutboxDrainReport(uploaded: 4, rejected: 1, ending: .drained))
            #expect(try fixture.labStore.outboxEntry(bootID: "huge", server: url)?.lastError.hasPrefix("HTTP 413") == true)
        }
    }

    @Test func sendingStoredBootsAgainStoresThemOnce() async throws {
        let fixture = try LiveResultsServer()
        try await fixture.run { url async throws in
            for index in 0..<5 { try Self.queue("boot-\(index)", in: fixture.labStore, server: url, minute: index) }
            let uploader = OutboxUploader(store: fixture.labStore, server: url, token: fixture.labToken.text)
            #expect(try await uploader.drain().uploaded == 5)
            // As if the server's answer had been lost: the same boots go again.
            #expect(try fixture.labStore.queueUploads(bootIDs: (0..<5).map { "boot-\($0)" }, server: url) == 5)
            #expect(try await uploader.drain().uploaded == 5)
            #expect(try fixture.store.count() == 5)
            #expect(try fixture.labStore.outboxEntries().isEmpty)
        }
    }

    @Test func anUnreachableServerKeepsTheBootsAndEachAttemptWaitsLonger() async throws {
        let folder = NSTemporaryDirectory() + "bootfarm-upload-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try ResultStore(path: folder + "/lab.sqlite")
        // Nothing listens on port 1 of the loopback address: connections are refused at once.
        let url = "http://127.0.0.1:1"
        for index in 0..<3 { try Self.queue("boot-\(index)", in: store, server: url, minute: index) }
        let uploader = OutboxUploader(
            store: store, server: url, token: "bft_any", options: OutboxUploader.Options(batchSize: 2, maximumBackoffSeconds: 8))

        var waits: [Double] = []
        for _ in 0..<4 {
            let before = Date()
            let report = try await uploader.drain(ignoringSchedule: true)
            guard case .unavailable(let message, let retryAt) = report.ending else {
                Issue.record("expected an unreachable server, got \(report.ending)")
                return
            }
            #expect(message.contains("cannot reach http://127.0.0.1:1"), "\(message)")
            waits.append(retryAt.timeIntervalSince(before))
        }
        // 1, 2, 4, then the maximum of 8 s, each within its ±10 % jitter.
        for (wait, expected) in zip(waits, [1.0, 2, 4, 8]) {
            #expect(wait >= expected * 0.85 && wait <= expected * 1.15, "\(waits)")
        }
        // Until then nothing is due: a drain on schedule sends nothing.
        #expect(try await uploader.drain() == OutboxDrainReport())
        let summary = try store.outboxSummary(server: url)
        #expect(summary.pending == 3 && summary.due == 0)
        #expect(summary.lastError?.contains("cannot reach") == true)
        #expect(try store.outboxEntry(bootID: "boot-0", server: url)?.attempts == 4)
        #expect(try store.outboxEntry(bootID: "boot-2", server: url)?.attempts == 0, "only the batch sent counts an attempt")
    }

    @Test func theBackgroundUploaderDrainsWhenWokenUp() async throws {
        let fixture = try LiveResultsServer()
        try await fixture.run { url async throws in
            let uploader = OutboxUploader(store: fixture.labStore, server: url, token: fixture.labToken.text)
            let (wakeUps, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
            let progress = ProgressLog()
            let background = Task { await uploader.run(wakeUps: wakeUps) { progress.append($0) } }
            wake.yield()
            for index in 0..<3 { try Self.queue("boot-\(index)", in: fixture.labStore, server: url, minute: index) }
            wake.yield()
            wake.finish()
            await background.value
            #expect(try fixture.store.count() == 3)
            #expect(try fixture.labStore.outboxEntries().isEmpty)
            guard case .uploaded(_, let pending)? = progress.all.last else {
                Issue.record("the last event is not an upload: \(progress.all)")
                return
            }
            #expect(pending == 0)
        }
    }

    @Test(arguments: [
        (200, UploadVerdict.stored), (201, .stored), (401, .unauthorized("HTTP 401: no")), (404, .wrongAddress("HTTP 404: no")),
        (405, .wrongAddress("HTTP 405: no")), (400, .refused("HTTP 400: no")), (403, .refused("HTTP 403: no")),
        (413, .refused("HTTP 413: no")), (422, .refused("HTTP 422: no")), (408, .unavailable("HTTP 408: no")),
        (429, .unavailable("HTTP 429: no")), (500, .unavailable("HTTP 500: no")), (503, .unavailable("HTTP 503: no")),
        (302, .unavailable("HTTP 302: no")),
    ])
    func eachHTTPStatusHasItsVerdict(status: Int, verdict: UploadVerdict) {
        #expect(UploadVerdict(status: status, body: Data(#"{"error": "no"}"#.utf8)) == verdict)
    }

    @Test func aServerMessageIsTheErrorOfItsJSONElseItsText() {
        #expect(
            UploadVerdict.serverMessage(Data(#"{"error": "[0].tree: must not be empty", "field": "[0].tree"}"#.utf8))
                == "[0].tree: must not be empty")
        #expect(UploadVerdict.serverMessage(Data("Bad Gateway\n".utf8)) == "Bad Gateway")
        #expect(UploadVerdict.serverMessage(Data()) == "no message")
    }

    @Test func backoffDoublesFromTheInitialWaitUpToTheMaximum() throws {
        let folder = NSTemporaryDirectory() + "bootfarm-upload-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let uploader = OutboxUploader(
            store: try ResultStore(path: folder + "/lab.sqlite"), server: "http://x", token: "t",
            options: OutboxUploader.Options(initialBackoffSeconds: 1, maximumBackoffSeconds: 300))
        #expect((1...11).map { uploader.backoffSeconds(afterAttempts: $0, jitter: 1) } == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300])
        #expect(uploader.backoffSeconds(afterAttempts: 1000, jitter: 1.1) == 330)
    }
}
