/// A boot job as submitted: what to boot, where, built from which revision, and what to do once
/// the shell is up. Read from a job file (`JobSpec.load`), queued in the store as JSON.
public struct JobSpec: Sendable, Codable, Equatable {
    /// Which boards may run the job.
    public enum Target: Sendable, Codable, Equatable {
        /// Exactly this board of the lab.
        case board(String)
        /// Any board of this type, or every one of them when `allBoards` (one job per board).
        case boardType(String, allBoards: Bool)
    }

    public var target: Target
    /// The kernel image: a path or an `http(s)://`/`file://` URL.
    public var kernel: JobArtifact
    /// The ramdisk (initramfs), if any.
    public var ramdisk: JobArtifact?
    /// The device tree blob, if any.
    public var dtb: JobArtifact?
    /// Shell prompt pattern overriding the board type's.
    public var prompt: String?
    /// Kernel command-line additions.
    public var bootArguments: String
    /// Per-stage timeout overrides, in seconds, keyed by stage name.
    public var stageTimeoutSeconds: [String: Double]
    /// The longest the whole job may take, in seconds (default 900).
    public var timeoutSeconds: Double
    /// Higher runs first; equal priorities run oldest first. Default 0.
    public var priority: Int
    /// How many times an infrastructure error is retried; nil takes the agent's default (2).
    public var retries: Int?
    /// Boot again this many times when the kernel fails, to confirm the failure. Default 0.
    public var confirmFailures: Int
    public var revision: Revision
    public var build: Build
    /// Shell commands run once the prompt is reached, in order.
    public var tests: [TestDefinition]

    public init(
        target: Target, kernel: JobArtifact, ramdisk: JobArtifact? = nil, dtb: JobArtifact? = nil, prompt: String? = nil,
        bootArguments: String = "", stageTimeoutSeconds: [String: Double] = [:], timeoutSeconds: Double = 900, priority: Int = 0,
        retries: Int? = nil, confirmFailures: Int = 0, revision: Revision = Revision(), build: Build = Build(),
        tests: [TestDefinition] = []
    ) {
        self.target = target
        self.kernel = kernel
        self.ramdisk = ramdisk
        self.dtb = dtb
        self.prompt = prompt
        self.bootArguments = bootArguments
        self.stageTimeoutSeconds = stageTimeoutSeconds
        self.timeoutSeconds = timeoutSeconds
        self.priority = priority
        self.retries = retries
        self.confirmFailures = confirmFailures
        self.revision = revision
        self.build = build
        self.tests = tests
    }

    /// The board type the job needs, when it names one.
    public var boardType: String? {
        if case .boardType(let name, _) = target { return name }
        return nil
    }

    /// Per-stage timeouts as stages.
    public var stageTimeouts: [Stage: Double] {
        var result: [Stage: Double] = [:]
        for (name, seconds) in stageTimeoutSeconds {
            if let stage = Stage(rawValue: name) { result[stage] = seconds }
        }
        return result
    }
}

/// A file a job boots: where it is and, optionally, the SHA-256 it must have.
public struct JobArtifact: Sendable, Codable, Equatable {
    /// An absolute path, or an `http://`, `https://` or `file://` URL.
    public var location: String
    /// Lower-case hex SHA-256 the file must have, when given.
    public var sha256: String?

    public init(location: String, sha256: String? = nil) {
        self.location = location
        self.sha256 = sha256
    }

    /// Whether the file is fetched over the network.
    public var isRemote: Bool { location.hasPrefix("http://") || location.hasPrefix("https://") }

    /// The local path, for a path or a `file://` URL.
    public var localPath: String? {
        if isRemote { return nil }
        if location.hasPrefix("file://") { return String(location.dropFirst("file://".count)) }
        return location
    }
}
