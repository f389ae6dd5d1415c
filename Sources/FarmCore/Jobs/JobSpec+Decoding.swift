import Foundation

extension JobSpec {
    /// Loads a job file and checks it against the lab that will run it.
    ///
    /// Relative paths are relative to the job file's folder. Local files must exist now; URLs are
    /// fetched when the job runs.
    public static func load(_ path: String, lab: LabConfig) throws(ConfigError) -> JobSpec {
        try decode(try ConfigNode.load(path), file: path, lab: lab)
    }

    /// Decodes a job from its parsed root node; `file` anchors relative paths.
    public static func decode(_ root: ConfigNode, file: String, lab: LabConfig) throws(ConfigError) -> JobSpec {
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let map = try root.mapping()

        let boardNode = map.optional("board")
        let typeNode = map.optional("board_type")
        let allNode = map.optional("all_boards")
        let allBoards = try allNode?.boolean() ?? false
        let target: Target
        switch (boardNode, typeNode) {
        case (nil, nil):
            throw root.error("a job names a 'board' or a 'board_type'")
        case (let boardNode?, let typeNode):
            let name = try boardNode.nonEmptyString()
            guard let board = lab.board(named: name) else {
                throw boardNode.error(
                    "no board '\(name)' in lab \(lab.name); boards: \(lab.boards.map(\.name).joined(separator: ", "))")
            }
            if let typeNode {
                let typeName = try typeNode.nonEmptyString()
                guard typeName == board.type.name else {
                    throw typeNode.error(
                        "board '\(name)' is of type '\(board.type.name)', which contradicts board_type '\(typeName)'; give one of them")
                }
            }
            if let allNode, allBoards { throw allNode.error("all_boards needs board_type, not a single board") }
            target = .board(name)
        case (nil, let typeNode?):
            let typeName = try typeNode.nonEmptyString()
            let types = Set(lab.boards.map(\.type.name))
            guard types.contains(typeName) else {
                throw typeNode.error(
                    "no board of type '\(typeName)' in lab \(lab.name); types there: \(types.sorted().joined(separator: ", "))")
            }
            target = .boardType(typeName, allBoards: allBoards)
        }

        let kernel = try artifact(try map.required("kernel"), folder: folder)
        let ramdisk = try map.optional("ramdisk").map { node throws(ConfigError) in try artifact(node, folder: folder) }
        let dtb = try map.optional("dtb").map { node throws(ConfigError) in try artifact(node, folder: folder) }
        let prompt = try map.optional("prompt")?.nonEmptyString()
        if let prompt, let node = map.optional("prompt") {
            do { _ = try ConsolePattern.regex(prompt) } catch { throw node.error("not a valid pattern: \(error)") }
        }
        let bootArguments = try map.optional("bootargs")?.string() ?? ""

        var stageTimeouts: [String: Double] = [:]
        if let node = map.optional("timeouts") {
            let timeouts = try node.mapping()
            for (key, value) in timeouts.values() {
                guard let stage = Stage(rawValue: key), stage <= .userspace else {
                    throw value.error("unknown stage '\(key)'; expected power, bootloader, kernel or userspace")
                }
                stageTimeouts[stage.rawValue] = try positiveSeconds(value)
            }
        }
        let timeout = try map.optional("timeout_s").map { node throws(ConfigError) in try positiveSeconds(node) } ?? 900
        let priority = try map.optional("priority")?.integer() ?? 0
        let retries = try map.optional("retries").map { node throws(ConfigError) in try count(node, upTo: 10) }
        let confirm = try map.optional("confirm_failures").map { node throws(ConfigError) in try count(node, upTo: 10) } ?? 0

        var revision = Revision()
        if let node = map.optional("revision") {
            let fields = try node.mapping()
            revision.tree = try fields.optional("tree")?.string() ?? ""
            revision.branch = try fields.optional("branch")?.string() ?? ""
            revision.commit = try fields.optional("commit")?.string() ?? ""
            revision.describe = try fields.optional("describe")?.string() ?? ""
            if let timeNode = fields.optional("commit_time") {
                let text = try timeNode.string()
                guard let normalized = ISOTimestamp.normalize(text) else {
                    throw timeNode.error("expected an ISO-8601 time such as 2024-05-01T12:00:00Z")
                }
                revision.commitTime = normalized
            }
            try fields.finish()
        }
        var build = Build()
        if let node = map.optional("build") {
            let fields = try node.mapping()
            build.arch = try fields.optional("arch")?.string() ?? ""
            build.defconfig = try fields.optional("defconfig")?.string() ?? ""
            build.compiler = try fields.optional("compiler")?.string() ?? ""
            try fields.finish()
        }
        var tests: [TestDefinition] = []
        if let node = map.optional("tests") {
            var names = Set<String>()
            for item in try node.list() {
                let fields = try item.mapping()
                let nameNode = try fields.required("name")
                let name = try nameNode.nonEmptyString()
                guard names.insert(name).inserted else { throw nameNode.error("two tests are named '\(name)'") }
                let command = try fields.required("command").nonEmptyString()
                let seconds = try fields.optional("timeout_s").map { node throws(ConfigError) in try positiveSeconds(node) } ?? 60
                try fields.finish()
                tests.append(TestDefinition(name: name, command: command, timeoutSeconds: seconds))
            }
        }
        try map.finish()
        return JobSpec(
            target: target, kernel: kernel, ramdisk: ramdisk, dtb: dtb, prompt: prompt, bootArguments: bootArguments,
            stageTimeoutSeconds: stageTimeouts, timeoutSeconds: timeout, priority: priority, retries: retries,
            confirmFailures: confirm, revision: revision, build: build, tests: tests)
    }

    /// A file given as a string (path or URL) or as `{path|url: …, sha256: …}`.
    private static func artifact(_ node: ConfigNode, folder: String) throws(ConfigError) -> JobArtifact {
        var location: String
        var sha256: String?
        var placeNode = node
        if let text = try? node.nonEmptyString() {
            location = text
        } else {
            let fields = try node.mapping()
            let pathNode = fields.optional("path")
            let urlNode = fields.optional("url")
            switch (pathNode, urlNode) {
            case (let pathNode?, nil):
                location = try pathNode.nonEmptyString()
                placeNode = pathNode
            case (nil, let urlNode?):
                location = try urlNode.nonEmptyString()
                placeNode = urlNode
                guard location.contains("://") else { throw urlNode.error("expected an http://, https:// or file:// URL") }
            case (.some, .some):
                throw node.error("give 'path' or 'url', not both")
            case (nil, nil):
                throw node.error("expected a path, a URL, or a mapping with 'path' or 'url' (and optionally 'sha256')")
            }
            if let checksumNode = fields.optional("sha256") {
                let text = try checksumNode.nonEmptyString().lowercased()
                guard text.count == 64, text.allSatisfy({ $0.isHexDigit }) else {
                    throw checksumNode.error("a SHA-256 is 64 hexadecimal digits")
                }
                sha256 = text
            }
            try fields.finish()
        }
        if location.contains("://") {
            guard location.hasPrefix("http://") || location.hasPrefix("https://") || location.hasPrefix("file://") else {
                throw placeNode.error("unsupported URL scheme in '\(location)'; expected http://, https:// or file://")
            }
        } else if !location.hasPrefix("/") {
            location = URL(fileURLWithPath: folder).appendingPathComponent(location).standardized.path
        }
        let artifact = JobArtifact(location: location, sha256: sha256)
        if let path = artifact.localPath {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw placeNode.error("no such file: \(path)")
            }
        }
        return artifact
    }

    private static func positiveSeconds(_ node: ConfigNode) throws(ConfigError) -> Double {
        let seconds = try node.number()
        guard seconds > 0, seconds.isFinite else { throw node.error("a timeout must be a positive number of seconds, found \(seconds)") }
        return seconds
    }

    private static func count(_ node: ConfigNode, upTo limit: Int) throws(ConfigError) -> Int {
        let value = try node.integer()
        guard (0...limit).contains(value) else { throw node.error("expected 0 to \(limit), found \(value)") }
        return value
    }
}
