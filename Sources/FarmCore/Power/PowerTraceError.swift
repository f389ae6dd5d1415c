/// A power trace that cannot be built or decoded.
public enum PowerTraceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A sample was older than the one before it; a trace only grows forwards in time.
    case outOfOrder(timeNanoseconds: Int64, previousNanoseconds: Int64)
    /// Packed bytes that are not a trace: `offset` is where decoding stopped.
    case corruptPacking(offset: Int, reason: String)

    public var description: String {
        switch self {
        case .outOfOrder(let time, let previous):
            "power sample at \(time) ns is older than the previous one at \(previous) ns"
        case .corruptPacking(let offset, let reason):
            "packed power trace is corrupt at byte \(offset): \(reason)"
        }
    }
}
