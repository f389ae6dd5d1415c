/// A power meter that cannot be set up or read: always an infrastructure error.
public enum PowerMeterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The meter's directory does not exist or is not a directory.
    case missingDirectory(path: String)
    /// A file the meter needs does not exist; `expected` says which files would do.
    case missingFile(path: String, expected: String)
    /// A file exists but cannot be read (the device went away, permission denied).
    case unreadable(path: String, reason: String)
    /// A file held something other than the number expected.
    case malformedValue(path: String, text: String)
    /// A sampling rate outside what a sampler supports.
    case invalidRate(rateHz: Double, allowed: ClosedRange<Double>)

    public var description: String {
        switch self {
        case .missingDirectory(let path): "power meter directory \(path) does not exist"
        case .missingFile(let path, let expected): "power meter file \(path) does not exist (expected \(expected))"
        case .unreadable(let path, let reason): "cannot read power meter file \(path): \(reason)"
        case .malformedValue(let path, let text): "power meter file \(path) holds \"\(text)\", not a number"
        case .invalidRate(let rate, let allowed):
            "power sampling rate \(rate) Hz is outside \(allowed.lowerBound)...\(allowed.upperBound) Hz"
        }
    }
}
