import FarmCore
import FarmStore
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Uploads the boots waiting in a store's outbox to one results server (`POST /api/v1/boots`,
/// a JSON array of records in the import format with their logs, power traces and tests), in
/// batches, oldest first.
///
/// A batch the server stored leaves the outbox. While the server cannot take boots (no answer,
/// 5xx, 408, 429) they stay, and each attempt waits longer than the last:
/// `initialBackoffSeconds` doubling up to `maximumBackoffSeconds`, with ±10 % jitter so that
/// labs cut off together do not come back in step. A refused token (401) or a URL that takes no
/// uploads (404, 405) stops the drain with the boots pending. A refused batch (400, 403, 413) is
/// split in halves until the boot at fault is alone; that one is kept as rejected with the
/// server's message while the others land. Boot ids are stable and the server stores by id, so
/// a batch sent again after a lost answer is stored once.
///
/// One drain at a time per store and server; separate processes may overlap harmlessly.
public struct OutboxUploader: Sendable {
    /// Batching, backoff and timeouts.
    public struct Options: Sendable, Equatable {
        /// Boots per request. Default 100.
        public var batchSize: Int
        /// The wait after a first failed attempt, in seconds. Default 1.
        public var initialBackoffSeconds: Double
        /// The longest wait between attempts, in seconds. Default 300.
        public var maximumBackoffSeconds: Double
        /// How long one request may take, in seconds. Default 30.
        public var requestTimeoutSeconds: Double

        public init(
            batchSize: Int = 100, initialBackoffSeconds: Double = 1, maximumBackoffSeconds: Double = 300,
            requestTimeoutSeconds: Double = 30
        ) {
            self.batchSize = batchSize
            self.initialBackoffSeconds = initialBackoffSeconds
            self.maximumBackoffSeconds = maximumBackoffSeconds
            self.requestTimeoutSeconds = requestTimeoutSeconds
        }
    }

    public let store: ResultStore
    /// The server's base URL; the outbox keeps boots per server URL.
    public let server: String
    public let options: Options
    private let token: String

    public init(store: ResultStore, server: String, token: String, options: Options = Options()) {
        self.store = store
        self.server = server
        self.token = token
        self.options = options
    }

    /// Sends the due boots (every pending one with `ignoringSchedule`) until none is left or
    /// the server cannot take more now; `progress` hears of every batch. Throws only when the
    /// store fails.
    public func drain(
        ignoringSchedule: Bool = false, progress: (OutboxProgress) -> Void = { _ in }
    ) async throws(StoreError) -> OutboxDrainReport {
        var report = OutboxDrainReport()
        while !Task.isCancelled {
            let batch = try store.pendingUploads(server: server, limit: max(1, options.batchSize), dueBy: ignoringSchedule ? nil : Date())
            guard !batch.isEmpty else { return report }
            if let ending = try await deliver(batch[...], report: &report, progress: progress) {
                report.ending = ending
                return report
            }
        }
        report.ending = .canceled
        return report
    }

    /// Sends `items` and settles their outbox rows by the answer, splitting a refused batch to
    /// find the boots at fault. Returns why to stop, when the server cannot take more now.
    private func deliver(
        _ items: ArraySlice<OutboxItem>, report: inout OutboxDrainReport, progress: (OutboxProgress) -> Void
    ) async throws(StoreError) -> OutboxDrainReport.Ending? {
        let ids = items.map(\.record.id)
        switch await post(items) {
        case .stored:
            try store.markUploaded(bootIDs: ids, server: server)
            report.uploaded += ids.count
            progress(.uploaded(count: ids.count, pending: try store.pendingUploadCount(server: server)))
            return nil
        case .refused(let message) where ids.count == 1:
            try store.markUploadRejected(bootID: ids[0], server: server, message: message)
            report.rejected += 1
            progress(.rejected(bootID: ids[0], message: message))
            return nil
        case .refused:
            let middle = items.startIndex + items.count / 2
            if let ending = try await deliver(items[..<middle], report: &report, progress: progress) { return ending }
            return try await deliver(items[middle...], report: &report, progress: progress)
        case .unavailable(let message):
            if Task.isCancelled { return .canceled }
            let attempts = (items.map(\.attempts).max() ?? 0) + 1
            let retryAt = Date().addingTimeInterval(backoffSeconds(afterAttempts: attempts, jitter: .random(in: 0.9...1.1)))
            try store.markUploadFailed(bootIDs: ids, server: server, error: message, retryAt: retryAt)
            progress(.unavailable(message: message, retryAt: retryAt, pending: try store.pendingUploadCount(server: server)))
            return .unavailable(message: message, retryAt: retryAt)
        case .unauthorized(let message):
            try holdForFix(ids, message: message, progress: progress)
            return .unauthorized(message: message)
        case .wrongAddress(let message):
            try holdForFix(ids, message: message, progress: progress)
            return .wrongAddress(message: message)
        }
    }

    /// Keeps boots pending after the server refused the token or URL. Nothing changes until
    /// someone fixes them, so the next attempt waits as long as backoff allows.
    private func holdForFix(_ ids: [String], message: String, progress: (OutboxProgress) -> Void) throws(StoreError) {
        let retryAt = Date().addingTimeInterval(options.maximumBackoffSeconds)
        try store.markUploadFailed(bootIDs: ids, server: server, error: message, retryAt: retryAt)
        progress(.refusedAccess(message: message, pending: try store.pendingUploadCount(server: server)))
    }

    /// The wait before the next attempt after `attempts` failed ones, in seconds: the initial
    /// backoff doubled per earlier failure, at most the maximum, times `jitter`.
    func backoffSeconds(afterAttempts attempts: Int, jitter: Double) -> Double {
        let doublings = Double(min(max(attempts - 1, 0), 40))
        return min(options.maximumBackoffSeconds, options.initialBackoffSeconds * pow(2, doublings)) * jitter
    }

    private func post(_ items: ArraySlice<OutboxItem>) async -> UploadVerdict {
        guard let url = URL(string: server + "/api/v1/boots") else { return .wrongAddress("\(server) is not a URL") }
        var request = URLRequest(url: url, timeoutInterval: options.requestTimeoutSeconds)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.httpBody = Self.body(items)
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            guard let answer = response as? HTTPURLResponse else { return .unavailable("\(server) gave no HTTP answer") }
            return UploadVerdict(status: answer.statusCode, body: data)
        } catch {
            return .unavailable("cannot reach \(server): \(error.localizedDescription)")
        }
    }

    /// The request body: a JSON array of the records in the import format, each with its log,
    /// power trace and tests.
    static func body(_ items: ArraySlice<OutboxItem>) -> Data {
        Data(("[" + items.map { $0.record.jsonLine(log: $0.log, power: $0.power, tests: $0.tests) }.joined(separator: ",") + "]").utf8)
    }
}
