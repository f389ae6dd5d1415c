/// A console that cannot be used: always an infrastructure error.
public enum ConsoleError: Error, Sendable, CustomStringConvertible {
    /// The device or socket cannot be opened.
    case cannotOpen(location: String, reason: String)
    /// The other side went away (QEMU exited, the adapter was unplugged, ser2net closed).
    case closed(location: String)
    /// Writing failed.
    case writeFailed(location: String, reason: String)
    /// The console was used before `open()`.
    case notOpen(location: String)

    public var description: String {
        switch self {
        case .cannotOpen(let location, let reason): "cannot open console \(location): \(reason)"
        case .closed(let location): "console \(location) closed"
        case .writeFailed(let location, let reason): "cannot write to console \(location): \(reason)"
        case .notOpen(let location): "console \(location) is not open"
        }
    }
}
