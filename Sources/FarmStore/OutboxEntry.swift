import FarmCore
import Foundation

/// Where a boot waiting in the outbox stands.
public enum OutboxState: String, Sendable, CaseIterable {
    /// Waiting to be uploaded (again, after a failed attempt).
    case pending
    /// The server refused the record for good (a 4xx answer other than 401); kept until re-queued.
    case rejected
}

/// A boot queued for upload to one results server.
public struct OutboxEntry: Sendable, Equatable {
    public var bootID: String
    /// The server's base URL.
    public var server: String
    public var state: OutboxState
    /// UTC ISO-8601 times, with milliseconds.
    public var queuedAt: String
    public var nextAttemptAt: String
    public var lastAttemptAt: String?
    /// Upload attempts so far.
    public var attempts: Int
    /// Why the last attempt failed, or the server's reason for refusing the record; empty before.
    public var lastError: String

    public init(
        bootID: String, server: String, state: OutboxState = .pending, queuedAt: String, nextAttemptAt: String,
        lastAttemptAt: String? = nil, attempts: Int = 0, lastError: String = ""
    ) {
        self.bootID = bootID
        self.server = server
        self.state = state
        self.queuedAt = queuedAt
        self.nextAttemptAt = nextAttemptAt
        self.lastAttemptAt = lastAttemptAt
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// A boot ready to upload: the record with its console log, and its attempts so far.
public struct OutboxItem: Sendable {
    public var record: BootRecord
    /// The console log, byte for byte, when one was stored.
    public var log: [UInt8]?
    /// The power recording, when the board had a meter.
    public var power: BootPower?
    /// The test cases run after boot.
    public var tests: [TestCase]
    public var attempts: Int

    public init(record: BootRecord, log: [UInt8]?, power: BootPower? = nil, tests: [TestCase] = [], attempts: Int) {
        self.record = record
        self.log = log
        self.power = power
        self.tests = tests
        self.attempts = attempts
    }
}

/// How the outbox of one server stands.
public struct OutboxSummary: Sendable, Equatable {
    /// The server's base URL.
    public var server: String
    /// Records waiting to be uploaded.
    public var pending: Int = 0
    /// Pending records whose next attempt is due now.
    public var due: Int = 0
    /// Records the server refused for good.
    public var rejected: Int = 0
    /// When the oldest pending record was queued (UTC ISO-8601).
    public var oldestQueuedAt: String?
    /// The earliest next attempt of a pending record (UTC ISO-8601).
    public var nextAttemptAt: String?
    /// The error of the most recent failed attempt among pending records.
    public var lastError: String?

    public init(server: String) { self.server = server }
}
