import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal QEMU Machine Protocol client over a Unix socket: one command at a time, each
/// answered by a `return` or `error` line (asynchronous `event` lines are skipped).
final class QMPClient {
    private let fd: Int32
    private var pending: [UInt8] = []
    let socketPath: String

    /// Connects and negotiates capabilities.
    init(socketPath: String, timeoutSeconds: Double = 5) throws {
        self.socketPath = socketPath
        fd = try UnixSocket.connect(socketPath, what: "QMP connect")
        var timeout = timeval(tv_sec: Int(timeoutSeconds), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = try readMessage()  // greeting
        _ = try execute("qmp_capabilities")
    }

    deinit { Glibc.close(fd) }

    /// Runs a command and returns its `return` value.
    @discardableResult
    func execute(_ command: String, arguments: [String: Any]? = nil) throws -> Any? {
        var message: [String: Any] = ["execute": command]
        if let arguments { message["arguments"] = arguments }
        var data = try JSONSerialization.data(withJSONObject: message)
        data.append(0x0A)
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == data.count else {
            throw PowerError.unexpectedAnswer(what: "QMP \(command)", answer: "write failed: \(String(cString: strerror(errno)))")
        }
        while true {
            let reply = try readMessage()
            if let error = reply["error"] as? [String: Any] {
                throw PowerError.unexpectedAnswer(what: "QMP \(command)", answer: "\(error["desc"] ?? error)")
            }
            if reply.keys.contains("return") { return reply["return"] }
        }
    }

    private func readMessage() throws -> [String: Any] {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeSubrange(...newline)
                if let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] { return object }
                continue
            }
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else {
                throw count == 0
                    ? PowerError.unexpectedAnswer(what: "QMP", answer: "QEMU closed its monitor")
                    : PowerError.timeout(what: "QMP \(socketPath)", seconds: 5)
            }
            pending.append(contentsOf: buffer[0..<count])
        }
    }
}
