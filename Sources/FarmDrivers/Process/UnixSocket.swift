import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Connecting to a local (Unix-domain) stream socket, such as QEMU's QMP monitor or UART.
public enum UnixSocket {
    /// A connected, close-on-exec descriptor for the socket at `path`; `what` names it in errors.
    public static func connect(_ path: String, what: String) throws(PowerError) -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .unexpectedAnswer(what: what, answer: String(cString: strerror(errno))) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            throw .unexpectedAnswer(what: what, answer: "path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            Glibc.close(fd)
            throw .unexpectedAnswer(what: "\(what) \(path)", answer: reason)
        }
        return fd
    }
}
