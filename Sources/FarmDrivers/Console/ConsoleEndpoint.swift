import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where a console's bytes come from, and how to open it as a file descriptor.
public enum ConsoleEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// A serial tty or PTY, set to raw mode at `baud`.
    case serial(path: String, baud: Int)
    /// A TCP port speaking raw bytes (ser2net `raw`, QEMU `-chardev socket`).
    case tcp(host: String, port: Int)

    public var description: String {
        switch self {
        case .serial(let path, let baud): "\(path) @ \(baud)"
        case .tcp(let host, let port): "tcp:\(host):\(port)"
        }
    }

    /// Opens a non-blocking, close-on-exec descriptor.
    func openDescriptor(connectTimeoutSeconds: Double = 5) throws(ConsoleError) -> Int32 {
        switch self {
        case .serial(let path, let baud):
            let fd = Glibc.open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { throw .cannotOpen(location: description, reason: String(cString: strerror(errno))) }
            do {
                try Self.configureRaw(fd, baud: baud, location: description)
            } catch {
                Glibc.close(fd)
                throw error
            }
            return fd
        case .tcp(let host, let port):
            return try Self.connect(host: host, port: port, timeoutSeconds: connectTimeoutSeconds, location: description)
        }
    }

    /// Raw mode (no echo, no line editing, no CR/LF translation), 8N1, receiver on, modem lines ignored.
    static func configureRaw(_ fd: Int32, baud: Int, location: String) throws(ConsoleError) {
        var settings = termios()
        guard tcgetattr(fd, &settings) == 0 else {
            throw .cannotOpen(location: location, reason: "not a terminal: \(String(cString: strerror(errno)))")
        }
        cfmakeraw(&settings)
        settings.c_cflag |= tcflag_t(CLOCAL | CREAD)
        let speed = speedConstant(baud)
        cfsetispeed(&settings, speed)
        cfsetospeed(&settings, speed)
        guard tcsetattr(fd, TCSANOW, &settings) == 0 else {
            throw .cannotOpen(location: location, reason: "cannot set raw mode: \(String(cString: strerror(errno)))")
        }
    }

    static func speedConstant(_ baud: Int) -> speed_t {
        switch baud {
        case 9600: speed_t(B9600)
        case 19200: speed_t(B19200)
        case 38400: speed_t(B38400)
        case 57600: speed_t(B57600)
        case 230400: speed_t(B230400)
        case 460800: speed_t(B460800)
        case 921600: speed_t(B921600)
        case 1_500_000: speed_t(B1500000)
        case 3_000_000: speed_t(B3000000)
        default: speed_t(B115200)
        }
    }

    static func connect(host: String, port: Int, timeoutSeconds: Double, location: String) throws(ConsoleError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &results)
        guard status == 0, let first = results else {
            throw .cannotOpen(location: location, reason: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(results) }
        var lastError = "no address"
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(
                info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                info.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                return fd
            }
            if errno == EINPROGRESS {
                var poller = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                if poll(&poller, 1, Int32(timeoutSeconds * 1000)) == 1 {
                    var socketError: Int32 = 0
                    var length = socklen_t(MemoryLayout<Int32>.size)
                    getsockopt(fd, SOL_SOCKET, SO_ERROR, &socketError, &length)
                    if socketError == 0 {
                        var one: Int32 = 1
                        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                        return fd
                    }
                    lastError = String(cString: strerror(socketError))
                } else {
                    lastError = "no answer within \(Int(timeoutSeconds)) s"
                }
            } else {
                lastError = String(cString: strerror(errno))
            }
            Glibc.close(fd)
        }
        throw .cannotOpen(location: location, reason: lastError)
    }
}
