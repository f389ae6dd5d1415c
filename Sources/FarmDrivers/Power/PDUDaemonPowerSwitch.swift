import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Switches one outlet of a PDU through a pdudaemon server's HTTP API
/// (`GET /power/control/{on,off,reboot}?hostname=PDU&port=OUTLET`).
///
/// pdudaemon queues requests per PDU and drives the PDU itself, retrying it as its own
/// configuration says; since version 1.0 it answers `200` once the job has run and `500` when the
/// request was invalid (unknown PDU, bad outlet) or the job failed after its retries. It cannot
/// report an outlet's state, so `state()` is always `.unknown`.
///
/// Only transport failures (connection refused, no answer in time) are retried here, `attempts`
/// times in all: an HTTP answer other than 200 comes from pdudaemon after its own retries and is
/// final.
public struct PDUDaemonPowerSwitch: PowerSwitch {
    /// A request pdudaemon accepts; the raw value is the last path component.
    public enum Request: String, Sendable {
        case on, off, reboot
    }

    /// Host name or address of the pdudaemon server.
    public let server: String
    /// TCP port of pdudaemon's HTTP listener (pdudaemon's default: 16421).
    public let serverPort: Int
    /// The PDU as pdudaemon's configuration names it (its `pdus` key), sent as `hostname`.
    public let pduHostname: String
    /// The PDU outlet the board is plugged into, sent as `port`.
    public let outlet: Int
    /// Seconds allowed for the TCP connection to the server. Default 5.
    public var connectTimeoutSeconds: Double
    /// Seconds allowed for the whole answer once connected. Default 60: pdudaemon answers only
    /// after the PDU job ran, including its own retries (5 × 5 s by default) and a reboot's delay.
    public var answerTimeoutSeconds: Double
    /// Attempts in all when the server cannot be reached or does not answer in time. Default 3.
    public var attempts: Int
    /// Seconds between two attempts. Default 2.
    public var retryDelaySeconds: Double
    /// Seconds pdudaemon waits between off and on in `cycle()`; nil: pdudaemon's default (5 s).
    public var rebootDelaySeconds: Int?

    /// A switch for `outlet` of PDU `pduHostname`, served by pdudaemon at `server:serverPort`.
    public init(
        server: String = "127.0.0.1", serverPort: Int = 16421, pduHostname: String, outlet: Int,
        connectTimeoutSeconds: Double = 5, answerTimeoutSeconds: Double = 60, attempts: Int = 3,
        retryDelaySeconds: Double = 2, rebootDelaySeconds: Int? = nil
    ) {
        self.server = server
        self.serverPort = serverPort
        self.pduHostname = pduHostname
        self.outlet = outlet
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.answerTimeoutSeconds = answerTimeoutSeconds
        self.attempts = max(1, attempts)
        self.retryDelaySeconds = retryDelaySeconds
        self.rebootDelaySeconds = rebootDelaySeconds
    }

    public func on() async throws { try await send(.on) }

    public func off() async throws { try await send(.off) }

    /// Asks pdudaemon to reboot the outlet: off, its delay, on — one job on the PDU's queue.
    public func cycle() async throws { try await send(.reboot) }

    /// Always `.unknown`: pdudaemon's API has no way to read an outlet's state.
    public func state() async throws -> PowerState { .unknown }

    /// "pdudaemon at HOST:PORT", as errors name the server.
    public var serverName: String {
        let host = server.contains(":") ? "[\(server)]" : server
        return "pdudaemon at \(host):\(serverPort)"
    }

    /// The request target sent for `request`, such as `/power/control/on?hostname=pdu1&port=3`.
    public func target(for request: Request) -> String {
        var unreserved = CharacterSet.alphanumerics
        unreserved.insert(charactersIn: "-._~")
        let hostname = pduHostname.addingPercentEncoding(withAllowedCharacters: unreserved) ?? pduHostname
        var target = "/power/control/\(request.rawValue)?hostname=\(hostname)&port=\(outlet)"
        if request == .reboot, let delay = rebootDelaySeconds { target += "&delay=\(delay)" }
        return target
    }

    /// Sends `request` and returns once pdudaemon accepted it with `200`.
    public func send(_ request: Request) async throws {
        let subject = "\(serverName), \(request.rawValue) for PDU \(pduHostname) outlet \(outlet)"
        var attempt = 1
        while true {
            let answer: HTTPAnswer
            do {
                answer = try await exchange(target: target(for: request))
            } catch let failure as TransportFailure {
                guard attempt < attempts else { throw failure.powerError(subject: subject, attempt: attempt, of: attempts) }
                attempt += 1
                try await Task.sleep(for: .seconds(retryDelaySeconds))
                continue
            }
            guard answer.status == 200 else {
                throw PowerError.unexpectedAnswer(what: subject, answer: answer.summary)
            }
            return
        }
    }

    // MARK: - HTTP/1.1 over a TCP socket

    /// An HTTP answer: status code, reason phrase and body.
    private struct HTTPAnswer {
        var status: Int
        var reason: String
        var body: String

        /// "HTTP 500 Internal Server Error: Invalid request", the body cut to one short line.
        var summary: String {
            let text = body.split(whereSeparator: \.isNewline).joined(separator: " ")
                .trimmingCharacters(in: .whitespaces)
            let shown = text.count > 200 ? String(text.prefix(200)) + "…" : text
            return "HTTP \(status) \(reason)" + (shown.isEmpty ? "" : ": \(shown)")
        }
    }

    /// Why no HTTP answer arrived; all of these are worth another attempt.
    private enum TransportFailure: Error {
        case cannotConnect(String)
        case connectTimeout(Double)
        case answerTimeout(Double)
        case broken(String)

        func powerError(subject: String, attempt: Int, of attempts: Int) -> PowerError {
            let what = attempts > 1 ? "\(subject) (attempt \(attempt) of \(attempts))" : subject
            switch self {
            case .cannotConnect(let reason): return .unexpectedAnswer(what: what, answer: "cannot connect: \(reason)")
            case .connectTimeout(let seconds): return .timeout(what: "\(what): connecting", seconds: seconds)
            case .answerTimeout(let seconds): return .timeout(what: "\(what): waiting for the answer", seconds: seconds)
            case .broken(let reason): return .unexpectedAnswer(what: what, answer: reason)
            }
        }
    }

    /// Runs one GET off the cooperative thread pool: its blocking `poll`s can last
    /// `answerTimeoutSeconds`, longer than a pool thread should be held.
    private func exchange(target: String) async throws -> HTTPAnswer {
        let server = server
        let serverPort = serverPort
        let connectTimeout = connectTimeoutSeconds
        let answerTimeout = answerTimeoutSeconds
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    with: Result {
                        try Self.get(
                            target: target, server: server, port: serverPort, connectTimeoutSeconds: connectTimeout,
                            answerTimeoutSeconds: answerTimeout)
                    })
            }
        }
    }

    private static func get(
        target: String, server: String, port: Int, connectTimeoutSeconds: Double, answerTimeoutSeconds: Double
    ) throws -> HTTPAnswer {
        let descriptor = try connect(server: server, port: port, timeoutSeconds: connectTimeoutSeconds)
        defer { Glibc.close(descriptor) }
        let deadline = BootClock.monotonicNanoseconds() + Int64(answerTimeoutSeconds * 1e9)
        let host = server.contains(":") ? "[\(server)]:\(port)" : "\(server):\(port)"
        let request =
            "GET \(target) HTTP/1.1\r\nHost: \(host)\r\nUser-Agent: bootfarm\r\nAccept: */*\r\nConnection: close\r\n\r\n"
        try send(Array(request.utf8), on: descriptor, deadline: deadline, timeoutSeconds: answerTimeoutSeconds)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if let answer = try parse(received, complete: false) { return answer }
            try waitFor(Int16(POLLIN), on: descriptor, deadline: deadline, timeoutSeconds: answerTimeoutSeconds)
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                received += buffer[0..<count]
                // A status line and a short body is all pdudaemon sends; more is not an answer.
                guard received.count <= 1 << 16 else { throw TransportFailure.broken("answer longer than 64 KiB") }
            } else if count == 0 {
                guard let answer = try parse(received, complete: true) else {
                    throw TransportFailure.broken(
                        received.isEmpty ? "connection closed without an answer" : "connection closed mid-answer")
                }
                return answer
            } else if errno != EINTR && errno != EAGAIN {
                throw TransportFailure.broken("read: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Connects a non-blocking socket to the first address of `server` that accepts.
    private static func connect(server: String, port: Int, timeoutSeconds: Double) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var addresses: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(server, String(port), &hints, &addresses)
        guard resolved == 0, let first = addresses else {
            throw TransportFailure.cannotConnect("cannot resolve \(server): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(addresses) }
        let deadline = BootClock.monotonicNanoseconds() + Int64(timeoutSeconds * 1e9)
        var lastFailure = TransportFailure.cannotConnect("no address for \(server)")
        for entry in sequence(first: first, next: { $0.pointee.ai_next }) {
            let info = entry.pointee
            let flags = Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
            let descriptor = socket(info.ai_family, info.ai_socktype | flags, info.ai_protocol)
            guard descriptor >= 0 else {
                lastFailure = .cannotConnect("socket: \(String(cString: strerror(errno)))")
                continue
            }
            do {
                if Glibc.connect(descriptor, info.ai_addr, info.ai_addrlen) != 0 {
                    guard errno == EINPROGRESS else { throw TransportFailure.cannotConnect(String(cString: strerror(errno))) }
                    try waitFor(Int16(POLLOUT), on: descriptor, deadline: deadline, timeoutSeconds: timeoutSeconds, connecting: true)
                    var code: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &code, &length)
                    guard code == 0 else { throw TransportFailure.cannotConnect(String(cString: strerror(code))) }
                }
                return descriptor
            } catch let failure as TransportFailure {
                Glibc.close(descriptor)
                lastFailure = failure
                if case .connectTimeout = failure { break }
            }
        }
        throw lastFailure
    }

    private static func send(_ bytes: [UInt8], on descriptor: Int32, deadline: Int64, timeoutSeconds: Double) throws {
        var offset = 0
        while offset < bytes.count {
            // MSG_NOSIGNAL: a server that hung up must give an error, not a SIGPIPE that ends bootfarm.
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
            } else if sent < 0 && (errno == EAGAIN || errno == EINTR) {
                try waitFor(Int16(POLLOUT), on: descriptor, deadline: deadline, timeoutSeconds: timeoutSeconds)
            } else {
                throw TransportFailure.broken("write: \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Waits until `events` are ready on `descriptor` or `deadline` (monotonic nanoseconds) passes.
    private static func waitFor(
        _ events: Int16, on descriptor: Int32, deadline: Int64, timeoutSeconds: Double, connecting: Bool = false
    ) throws {
        while true {
            let remaining = deadline - BootClock.monotonicNanoseconds()
            guard remaining > 0 else {
                throw connecting ? TransportFailure.connectTimeout(timeoutSeconds) : TransportFailure.answerTimeout(timeoutSeconds)
            }
            var poller = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&poller, 1, Int32(min(remaining / 1_000_000 + 1, 60_000)))
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw TransportFailure.broken("poll: \(String(cString: strerror(errno)))") }
        }
    }

    /// Parses an answer once it is whole: headers and `Content-Length` bytes of body, or everything
    /// up to the end of the connection (`complete`). Chunked bodies are decoded.
    private static func parse(_ bytes: [UInt8], complete: Bool) throws -> HTTPAnswer? {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let headerEnd = firstIndex(of: separator, in: bytes) else {
            if complete && !bytes.isEmpty { throw TransportFailure.broken("not an HTTP answer: \(printable(bytes))") }
            return nil
        }
        let head = String(decoding: bytes[..<headerEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst()
        let parts = statusLine.split(separator: " ", maxSplits: 2).map(String.init)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let status = Int(parts[1]) else {
            throw TransportFailure.broken("not an HTTP answer: \(printable(Array(statusLine.utf8)))")
        }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[(headerEnd + separator.count)...])
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            guard let decoded = decodeChunks(body) else {
                if complete { throw TransportFailure.broken("connection closed mid-answer") }
                return nil
            }
            body = decoded
        } else if let lengthText = headers["content-length"], let length = Int(lengthText) {
            guard body.count >= length else {
                if complete { throw TransportFailure.broken("connection closed mid-answer") }
                return nil
            }
            body = Array(body.prefix(length))
        } else if !complete {
            return nil
        }
        return HTTPAnswer(status: status, reason: parts.count > 2 ? parts[2] : "", body: String(decoding: body, as: UTF8.self))
    }

    /// The body of a whole chunked message, or nil while its last chunk has not arrived.
    private static func decodeChunks(_ bytes: [UInt8]) -> [UInt8]? {
        var decoded: [UInt8] = []
        var index = 0
        while let lineEnd = firstIndex(of: [13, 10], in: bytes, from: index) {
            let sizeText = String(decoding: bytes[index..<lineEnd], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
            if size == 0 { return decoded }
            let start = lineEnd + 2
            guard bytes.count >= start + size + 2 else { return nil }
            decoded += bytes[start..<(start + size)]
            index = start + size + 2
        }
        return nil
    }

    private static func firstIndex(of pattern: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
        guard bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
        for index in start...(bytes.count - pattern.count) where bytes[index..<(index + pattern.count)].elementsEqual(pattern) {
            return index
        }
        return nil
    }

    private static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(80), as: UTF8.self).replacingOccurrences(of: "\r\n", with: " ")
    }
}
