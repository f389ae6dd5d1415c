import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP server socket on 127.0.0.1 with an ephemeral port, standing in for ser2net.
final class LoopbackListener {
    /// The listening socket (-1 once closed).
    private(set) var descriptor: Int32
    /// The port the kernel chose.
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw TestIOError(operation: "socket", code: errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, listen(fd, 4) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestIOError(operation: "bind/listen", code: code)
        }
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else {
            let code = errno
            Glibc.close(fd)
            throw TestIOError(operation: "getsockname", code: code)
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close() }

    /// Accepts one connection, waiting at most `timeoutSeconds`.
    func accept(timeoutSeconds: Double = 5) throws -> Int32 {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeoutSeconds * 1000)) == 1 else {
            throw TestIOError(operation: "accept (nobody connected)", code: ETIMEDOUT)
        }
        let connection = Glibc.accept(descriptor, nil, nil)
        guard connection >= 0 else { throw TestIOError(operation: "accept", code: errno) }
        return connection
    }

    /// Stops listening: connecting to `port` is refused from now on.
    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}
