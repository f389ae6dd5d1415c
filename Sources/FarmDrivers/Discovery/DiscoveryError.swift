/// Device discovery that could not look at the devices at all (finding none is not an error).
public enum DiscoveryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The sysfs root does not exist or has no `devices` folder.
    case sysfsMissing(root: String)
    /// libudev could not be set up or could not scan; `step` names the call that failed.
    case udevFailed(step: String, errorNumber: Int32)

    public var description: String {
        switch self {
        case .sysfsMissing(let root):
            "no sysfs at \(root): expected a folder holding devices/, class/ and bus/"
        case .udevFailed(let step, let errorNumber):
            "libudev \(step) failed (error \(errorNumber)); try discovery from sysfs instead"
        }
    }
}
