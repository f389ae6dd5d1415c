/// A job that cannot run for reasons outside the kernel: an infrastructure error.
public enum JobError: Error, Sendable, CustomStringConvertible {
    /// A file the job boots cannot be had or does not match its checksum.
    case artifact(location: String, reason: String)
    /// The job ran longer than its overall timeout.
    case timedOut(seconds: Double)

    public var description: String {
        switch self {
        case .artifact(let location, let reason): "job file \(location): \(reason)"
        case .timedOut(let seconds): "job timed out after \(Int(seconds)) s"
        }
    }
}
