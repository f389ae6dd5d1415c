import Foundation

extension LabConfig {
    /// Loads a lab file and the board types it names, and validates the bindings.
    ///
    /// Relative paths in the file are relative to the file's folder. Board types are read from
    /// `board_types` (default `../boards` beside the lab file).
    public static func load(_ path: String) throws(ConfigError) -> LabConfig {
        let root = try ConfigNode.load(path)
        return try decode(root, file: path)
    }

    /// Decodes a lab from its parsed root node; `file` anchors relative paths.
    public static func decode(_ root: ConfigNode, file: String) throws(ConfigError) -> LabConfig {
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        func resolve(_ path: String) -> String {
            path.hasPrefix("/") ? path : URL(fileURLWithPath: folder).appendingPathComponent(path).standardized.path
        }
        let map = try root.mapping()
        let name = try map.required("name").nonEmptyString()
        let typesDirectory = resolve(try map.optional("board_types")?.nonEmptyString() ?? "../boards")
        let defaultTFTPRoot = (try map.optional("tftp_root")?.nonEmptyString()).map(resolve)
        let boardsNode = try map.required("boards")
        let boardsMap = try boardsNode.mapping()
        var types = BoardTypeCatalog(directory: typesDirectory)
        var boards: [BoardConfig] = []
        for (boardName, node) in boardsMap.values() {
            boards.append(try decodeBoard(boardName, node, types: &types, defaultTFTPRoot: defaultTFTPRoot, resolve: resolve))
        }
        if boards.isEmpty { throw boardsNode.error("a lab needs at least one board") }
        if let checksNode = map.optional("health_checks") {
            for (typeName, node) in try checksNode.mapping().values() {
                guard boards.contains(where: { $0.type.name == typeName }) else {
                    throw node.error("no board of type '\(typeName)' in this lab")
                }
                let check = try HealthCheck.decode(node, folder: folder)
                for index in boards.indices where boards[index].type.name == typeName { boards[index].type.healthCheck = check }
            }
        }
        let agent = try map.optional("agent").map { node throws(ConfigError) in try AgentSettings.decode(node) } ?? AgentSettings()
        let server = try map.optional("server").map { node throws(ConfigError) in try UploadSettings.decode(node, resolve: resolve) }
        try map.finish()
        var lab = LabConfig(name: name, file: file, boardTypesDirectory: typesDirectory, boards: boards)
        lab.agent = agent
        lab.server = server
        return lab
    }

    private static func decodeBoard(
        _ name: String, _ node: ConfigNode, types: inout BoardTypeCatalog, defaultTFTPRoot: String?,
        resolve: (String) -> String
    ) throws(ConfigError) -> BoardConfig {
        let map = try node.mapping()
        let typeNode = try map.required("type")
        let type = try types.type(named: try typeNode.nonEmptyString(), at: typeNode)
        let powerNode = try map.required("power")
        let power = try decodePower(powerNode, resolve: resolve)
        let consoleNode = try map.required("console")
        let console = try decodeConsole(consoleNode, resolve: resolve)
        let tftpRoot = (try map.optional("tftp_root")?.nonEmptyString()).map(resolve) ?? defaultTFTPRoot
        let meter = try map.optional("meter").map { node throws(ConfigError) in try decodeMeter(node, resolve: resolve) }
        var boardType = type
        if let sequenceNode = map.optional("power_sequence") { boardType.powerSequence = try PowerSequence.decode(sequenceNode) }
        try map.finish()
        switch power {
        case .qemu:
            break
        default:
            if type.bootMethod == .qemuDirect { throw powerNode.error("boot method 'qemu-direct' needs power kind 'qemu'") }
            if tftpRoot == nil {
                throw node.error(
                    "board '\(name)' boots through U-Boot with power kind '\(power.kind)': set tftp_root (the folder the lab's TFTP server serves)"
                )
            }
        }

        switch (power, console) {
        case (.qemu(let qemu), _) where type.qemu == nil:
            _ = qemu
            throw powerNode.error("power kind 'qemu' needs a board type with a 'qemu' section; '\(type.name)' has none")
        case (.qemu(let qemu), .qemuPTY) where qemu.serialTCPPort != nil:
            throw consoleNode.error("console 'qemu-pty' contradicts power.serial_tcp_port; use console kind 'tcp' on that port")
        case (.qemu(let qemu), .tcp(_, let port)) where qemu.serialTCPPort != port:
            throw consoleNode.error(
                "console port \(port) is not the QEMU serial port (power.serial_tcp_port: \(qemu.serialTCPPort.map(String.init) ?? "not set"))"
            )
        default:
            break
        }
        if case .qemuPTY = console, power.kind != "qemu" {
            throw consoleNode.error("console 'qemu-pty' needs power kind 'qemu'")
        }
        return BoardConfig(name: name, type: boardType, power: power, console: console, tftpRoot: tftpRoot, meter: meter)
    }

    private static func decodePower(_ node: ConfigNode, resolve: (String) -> String) throws(ConfigError) -> PowerResource {
        let map = try node.mapping()
        let kindNode = try map.required("kind")
        let kind = try kindNode.string()
        switch kind {
        case "qemu":
            let portNode = map.optional("serial_tcp_port")
            let port = try portNode?.integer()
            if let portNode, let port, !(1...65535).contains(port) {
                throw portNode.error("a TCP port must be 1 to 65535, found \(port)")
            }
            let resource = QEMUPowerResource(
                binary: try map.optional("binary")?.nonEmptyString(),
                tftpRoot: (try map.optional("tftp_root")?.nonEmptyString()).map(resolve),
                serialTCPPort: port)
            try map.finish()
            return .qemu(resource)
        case "lcus":
            let device = try map.deviceReference(pathKey: "device", resolve: resolve)
            let channel = try channelNumber(map, in: 1...8, kind: kind)
            let inverted = try map.optional("inverted")?.boolean() ?? false
            try map.finish()
            return .lcus(device: device, channel: channel, inverted: inverted)
        case "numato":
            let device = try map.deviceReference(pathKey: "device", resolve: resolve)
            let channel = try channelNumber(map, in: 0...31, kind: kind)
            let baudNode = map.optional("baud")
            let baud = try baudNode?.integer() ?? 19200
            if let baudNode, !SerialBaudRates.supported.contains(baud) {
                throw baudNode.error("unsupported baud rate \(baud)")
            }
            let inverted = try map.optional("inverted")?.boolean() ?? false
            try map.finish()
            return .numato(device: device, channel: channel, baud: baud, inverted: inverted)
        case "usb-hid-relay":
            let board: HIDRelayBoard
            switch (map.optional("serial"), map.optional("match")) {
            case (let serialNode?, nil): board = .serial(try serialNode.nonEmptyString())
            case (nil, let matchNode?): board = .match(try DeviceMatch.decode(matchNode))
            case (_?, let matchNode?):
                throw matchNode.error("'serial' and 'match' contradict each other; name the relay board one way")
            case (nil, nil):
                throw map.node.error(
                    "missing 'serial' (the board's 5-character serial) or 'match' (udev properties, as 'bootfarm lab discover' prints them)"
                )
            }
            let channel = try channelNumber(map, in: 1...8, kind: kind)
            try map.finish()
            return .hidRelay(board: board, channel: channel)
        case "pdudaemon":
            let server = try map.optional("server")?.nonEmptyString() ?? "127.0.0.1"
            let portNode = map.optional("port")
            let port = try portNode?.integer() ?? 16421
            if let portNode, !(1...65535).contains(port) { throw portNode.error("a TCP port must be 1 to 65535, found \(port)") }
            let pdu = try map.required("pdu").nonEmptyString()
            let outletNode = try map.required("outlet")
            let outlet = try outletNode.integer()
            guard outlet >= 0 else { throw outletNode.error("an outlet number must not be negative, found \(outlet)") }
            try map.finish()
            return .pdudaemon(server: server, port: port, pdu: pdu, outlet: outlet)
        case "command":
            let on = try map.required("on").nonEmptyString()
            let off = try map.required("off").nonEmptyString()
            let cycle = try map.optional("cycle")?.nonEmptyString()
            let timeoutNode = map.optional("timeout_s")
            let timeout = try timeoutNode?.number() ?? 30
            if let timeoutNode, timeout <= 0 { throw timeoutNode.error("a timeout must be a positive number of seconds") }
            try map.finish()
            return .command(on: on, off: off, cycle: cycle, timeoutSeconds: timeout)
        default:
            throw kindNode.error("unknown power kind '\(kind)'; expected one of: \(PowerResource.kinds.joined(separator: ", "))")
        }
    }

    private static func channelNumber(_ map: ConfigMapping, in range: ClosedRange<Int>, kind: String) throws(ConfigError) -> Int {
        let node = try map.required("channel")
        let channel = try node.integer()
        guard range.contains(channel) else {
            throw node.error("channel \(channel) is out of range for a \(kind) relay; expected \(range.lowerBound) to \(range.upperBound)")
        }
        return channel
    }

    private static func decodeMeter(_ node: ConfigNode, resolve: (String) -> String) throws(ConfigError) -> MeterResource {
        let map = try node.mapping()
        let kind = try map.required("kind").choice(MeterResource.Kind.self)
        let device = try map.deviceReference(pathKey: "path", resolve: resolve)
        let rateNode = map.optional("rate_hz")
        let rate = try rateNode?.number() ?? 100
        if let rateNode, !(1...1000).contains(rate) { throw rateNode.error("a sampling rate must be 1 to 1000 Hz, found \(rate)") }
        let detailNode = map.optional("voltage_current_hz")
        let detailRate = try detailNode?.number() ?? 100
        if let detailNode, !(0...1000).contains(detailRate) {
            throw detailNode.error("a voltage and current rate must be 0 (never) to 1000 Hz, found \(detailRate)")
        }
        let bufferNode = map.optional("buffer")
        let buffered = try bufferNode?.boolean() ?? false
        let bufferDeviceNode = map.optional("buffer_device")
        let bufferDevice = try bufferDeviceNode?.nonEmptyString()
        if let bufferNode, buffered, kind != .iio {
            throw bufferNode.error("only an IIO meter has a buffer; use kind: iio")
        }
        if let bufferDeviceNode, !buffered {
            throw bufferDeviceNode.error("'buffer_device' needs 'buffer: true'")
        }
        if let detailNode, buffered {
            throw detailNode.error(
                "'voltage_current_hz' and 'buffer: true' contradict each other: a buffer carries every channel in each scan")
        }
        try map.finish()
        var meter = MeterResource(kind: kind, device: device, rateHz: rate, place: (map.optional("path") ?? node).error(""))
        meter.voltageAndCurrentRateHz = detailRate
        meter.buffered = buffered
        meter.bufferDevice = bufferDevice.map { $0.hasPrefix("/") ? $0 : resolve($0) }
        return meter
    }

    private static func decodeConsole(_ node: ConfigNode, resolve: (String) -> String) throws(ConfigError) -> ConsoleResource {
        let map = try node.mapping()
        let kindNode = try map.required("kind")
        let kind = try kindNode.string()
        let console: ConsoleResource
        switch kind {
        case "qemu-pty":
            console = .qemuPTY
        case "serial":
            let device = try map.deviceReference(pathKey: "device", resolve: resolve)
            let baudNode = map.optional("baud")
            let baud = try baudNode?.integer() ?? 115200
            if let baudNode, !SerialBaudRates.supported.contains(baud) {
                throw baudNode.error(
                    "unsupported baud rate \(baud); expected one of: \(SerialBaudRates.supported.map(String.init).joined(separator: ", "))")
            }
            console = .serial(device: device, baud: baud)
        case "tcp":
            let host = try map.optional("host")?.nonEmptyString() ?? "127.0.0.1"
            let portNode = try map.required("port")
            let port = try portNode.integer()
            guard (1...65535).contains(port) else { throw portNode.error("a TCP port must be 1 to 65535, found \(port)") }
            console = .tcp(host: host, port: port)
        default:
            throw kindNode.error("unknown console kind '\(kind)'; expected one of: qemu-pty, serial, tcp")
        }
        try map.finish()
        return console
    }
}

/// Baud rates a serial console may use.
public enum SerialBaudRates {
    /// The rates termios can set on Linux that boards use.
    public static let supported = [9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600, 1_500_000, 3_000_000]
}

/// Board types read from a folder on first use, each from `NAME.yaml`.
struct BoardTypeCatalog {
    let directory: String
    private var loaded: [String: BoardType] = [:]

    init(directory: String) { self.directory = directory }

    mutating func type(named name: String, at node: ConfigNode) throws(ConfigError) -> BoardType {
        if let type = loaded[name] { return type }
        let path = URL(fileURLWithPath: directory).appendingPathComponent("\(name).yaml").path
        guard FileManager.default.fileExists(atPath: path) else {
            let known = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                .filter { $0.hasSuffix(".yaml") }.map { String($0.dropLast(5)) }.sorted()
            let list = known.isEmpty ? "none found" : known.joined(separator: ", ")
            throw node.error("unknown board type '\(name)': no \(path); known types: \(list)")
        }
        let type = try BoardType.decode(try ConfigNode.load(path))
        guard type.name == name else {
            throw ConfigError(file: path, key: "name", message: "board type file \(name).yaml names itself '\(type.name)'")
        }
        loaded[name] = type
        return type
    }
}
