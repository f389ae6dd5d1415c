import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A failure to hand a message to the mail server.
public struct SMTPError: Error, Sendable, CustomStringConvertible {
    public var server: String
    public var message: String
    public var description: String { "SMTP \(server): \(message)" }
}

/// Sends a message over plain SMTP (RFC 5321): EHLO, MAIL FROM, RCPT TO, DATA, QUIT. Meant for
/// a local relay or the lab's mail server; every reply is checked and a refusal names the step.
public struct SMTPClient: Sendable {
    public var host: String
    public var port: Int
    /// Seconds to wait for each reply.
    public var timeoutSeconds: Double = 30

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` (port 25 when absent).
    public init?(address: String) {
        let parts = address.split(separator: ":", maxSplits: 1).map(String.init)
        guard let host = parts.first, !host.isEmpty else { return nil }
        if parts.count == 2 {
            guard let port = Int(parts[1]), (1...65535).contains(port) else { return nil }
            self.init(host: host, port: port)
        } else {
            self.init(host: host, port: 25)
        }
    }

    public func send(_ message: EmailMessage) throws {
        let server = "\(host):\(port)"
        let connection = try SMTPConnection(host: host, port: port, timeoutSeconds: timeoutSeconds, server: server)
        defer { connection.close() }
        try connection.expect(220, step: "greeting")
        try connection.command("EHLO \(ProcessInfo.processInfo.hostName)", expect: 250)
        try connection.command("MAIL FROM:<\(Self.address(message.from))>", expect: 250)
        for recipient in message.to {
            try connection.command("RCPT TO:<\(Self.address(recipient))>", expect: 250, alsoAccept: 251)
        }
        try connection.command("DATA", expect: 354)
        // Dot-stuffing: a line starting with "." gets another one (RFC 5321 4.5.2).
        let stuffed = message.rendered.split(separator: "\r\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix(".") ? "." + $0 : String($0) }.joined(separator: "\r\n")
        try connection.write(stuffed + (stuffed.hasSuffix("\r\n") ? "" : "\r\n") + ".\r\n")
        try connection.expect(250, step: "message body")
        try? connection.command("QUIT", expect: 221)
    }

    /// The bare address of `Name <user@host>` or `user@host`.
    static func address(_ text: String) -> String {
        if let open = text.lastIndex(of: "<"), let close = text.lastIndex(of: ">"), open < close {
            return String(text[text.index(after: open)..<close])
        }
        return text.trimmingCharacters(in: .whitespaces)
    }
}

/// One SMTP conversation over a blocking socket.
final class SMTPConnection {
    private let fd: Int32
    private let server: String
    private var pending: [UInt8] = []

    init(host: String, port: Int, timeoutSeconds: Double, server: String) throws {
        self.server = server
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &results) == 0, let first = results else {
            throw SMTPError(server: server, message: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(results) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        var connected: Int32 = -1
        var reason = "no address"
        while let info = entry, connected < 0 {
            entry = info.pointee.ai_next
            let candidate = socket(
                info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            guard candidate >= 0 else { continue }
            var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: 0)
            setsockopt(candidate, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(candidate, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(candidate, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                connected = candidate
            } else {
                reason = String(cString: strerror(errno))
                Glibc.close(candidate)
            }
        }
        guard connected >= 0 else { throw SMTPError(server: server, message: "cannot connect: \(reason)") }
        fd = connected
    }

    func close() { Glibc.close(fd) }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard written > 0 else { throw SMTPError(server: server, message: "connection lost while sending") }
            offset += written
        }
    }

    func command(_ line: String, expect code: Int, alsoAccept other: Int? = nil) throws {
        try write(line + "\r\n")
        try expect(code, alsoAccept: other, step: String(line.prefix(while: { $0 != " " && $0 != ":" })))
    }

    /// Reads a (possibly multi-line) reply and checks its code.
    func expect(_ code: Int, alsoAccept other: Int? = nil, step: String) throws {
        var lastLine = ""
        while true {
            let line = try readLine()
            lastLine = line
            // "250-..." continues, "250 ..." ends the reply.
            if line.count < 4 || line[line.index(line.startIndex, offsetBy: 3)] != "-" { break }
        }
        guard let received = Int(lastLine.prefix(3)), received == code || received == other else {
            throw SMTPError(server: server, message: "\(step) refused: \(lastLine)")
        }
    }

    private func readLine() throws -> String {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self).trimmingCharacters(in: .newlines)
                pending.removeSubrange(...newline)
                return line
            }
            var buffer = [UInt8](repeating: 0, count: 1024)
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else {
                throw SMTPError(server: server, message: count == 0 ? "server closed the connection" : "no reply in time")
            }
            pending.append(contentsOf: buffer[0..<count])
        }
    }
}
