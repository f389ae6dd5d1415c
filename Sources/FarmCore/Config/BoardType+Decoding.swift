import Foundation

extension BoardType {
    /// Decodes a board type from its YAML root node and checks it.
    public static func decode(_ root: ConfigNode) throws(ConfigError) -> BoardType {
        let map = try root.mapping()
        let name = try map.required("name").nonEmptyString()
        let arch = try map.required("arch").nonEmptyString()
        let qemu = try map.optional("qemu").map { node throws(ConfigError) in try QEMUMachine.decode(node) }

        let bootNode = try map.required("boot")
        let boot = try bootNode.mapping()
        let method = try boot.required("method").choice(BootMethodKind.self)
        let kindNode = boot.optional("kernel_image")
        let kernelImageKind = try kindNode?.choice(KernelImageKind.self) ?? .image
        let consoleDevice = try boot.required("console_device").nonEmptyString()
        let bootArguments = try boot.optional("bootargs")?.string() ?? ""
        var uBoot: UBootSettings?
        if let node = boot.optional("u_boot") {
            uBoot = try UBootSettings.decode(node)
        }
        try boot.finish()

        switch method {
        case .uBoot where uBoot == nil:
            throw bootNode.error("boot method 'u-boot' needs a 'u_boot' section (prompt, load addresses)")
        case .qemuDirect where qemu == nil:
            throw bootNode.error("boot method 'qemu-direct' needs a 'qemu' section describing the machine")
        case .qemuDirect where uBoot != nil:
            throw bootNode.error("'u_boot' settings contradict boot method 'qemu-direct'")
        default:
            break
        }

        let shellPrompt = try map.optional("shell_prompt")?.nonEmptyString() ?? "/ # "
        var timeouts = StageTimeouts()
        if let node = map.optional("timeouts") {
            timeouts = try StageTimeouts.decode(node)
        }
        let folder = URL(fileURLWithPath: root.file).deletingLastPathComponent().path
        let healthCheck = try map.optional("health_check").map { node throws(ConfigError) in try HealthCheck.decode(node, folder: folder) }
        let powerSequence = try map.optional("power_sequence").map { node throws(ConfigError) in try PowerSequence.decode(node) }
        try map.finish()
        var type = BoardType(
            name: name, arch: arch, qemu: qemu, bootMethod: method, uBoot: uBoot, kernelImageKind: kernelImageKind,
            consoleDevice: consoleDevice, bootArguments: bootArguments, shellPrompt: shellPrompt, timeouts: timeouts)
        type.healthCheck = healthCheck
        if let powerSequence { type.powerSequence = powerSequence }
        return type
    }
}

extension QEMUMachine {
    static func decode(_ node: ConfigNode) throws(ConfigError) -> QEMUMachine {
        let map = try node.mapping()
        let memoryNode = map.optional("memory_mb")
        let memory = try memoryNode?.integer() ?? 512
        if let memoryNode, memory < 16 { throw memoryNode.error("memory must be at least 16 MiB, found \(memory)") }
        let machine = QEMUMachine(
            binary: try map.required("binary").nonEmptyString(),
            machine: try map.required("machine").nonEmptyString(),
            cpu: try map.optional("cpu")?.nonEmptyString(),
            memoryMegabytes: memory,
            firmware: try map.optional("firmware")?.nonEmptyString(),
            networkDevice: try map.optional("network_device")?.nonEmptyString(),
            extraArguments: try map.optional("extra_args")?.strings() ?? [])
        try map.finish()
        return machine
    }
}

extension UBootSettings {
    static func decode(_ node: ConfigNode) throws(ConfigError) -> UBootSettings {
        let map = try node.mapping()
        let addresses = try map.required("load_addresses")
        let addressMap = try addresses.mapping()
        let kernel = try addressMap.required("kernel").integer()
        let ramdisk = try addressMap.required("ramdisk").integer()
        let dtb = try addressMap.required("dtb").integer()
        try addressMap.finish()
        let delayNode = map.optional("character_delay_ms")
        let delay = try delayNode?.integer() ?? 0
        if let delayNode, !(0...1000).contains(delay) {
            throw delayNode.error("character delay must be 0 to 1000 ms, found \(delay)")
        }
        let settings = UBootSettings(
            prompt: try map.optional("prompt")?.nonEmptyString() ?? "=> ",
            autobootPattern: try map.optional("autoboot")?.nonEmptyString() ?? "Hit any key to stop autoboot",
            interrupt: try map.optional("interrupt")?.string() ?? " ",
            characterDelayMilliseconds: delay,
            dhcp: try map.optional("dhcp")?.boolean() ?? true,
            kernelAddress: kernel, ramdiskAddress: ramdisk, dtbAddress: dtb)
        try map.finish()
        return settings
    }
}

extension StageTimeouts {
    /// Decodes a `timeouts` mapping of stage name to seconds.
    static func decode(_ node: ConfigNode) throws(ConfigError) -> StageTimeouts {
        var timeouts = StageTimeouts()
        let map = try node.mapping()
        for (key, value) in map.values() {
            guard let stage = Stage(rawValue: key), stage <= .userspace else {
                throw value.error("unknown stage '\(key)'; expected one of: power, bootloader, kernel, userspace")
            }
            let seconds = try value.number()
            guard seconds > 0 else { throw value.error("a timeout must be a positive number of seconds, found \(seconds)") }
            timeouts[stage] = seconds
        }
        return timeouts
    }
}

extension HealthCheck {
    /// Decodes `{kernel, ramdisk, dtb, prompt}`; paths are relative to `folder`.
    public static func decode(_ node: ConfigNode, folder: String) throws(ConfigError) -> HealthCheck {
        let map = try node.mapping()
        func path(_ key: String) throws(ConfigError) -> String? {
            guard let valueNode = map.optional(key) else { return nil }
            let text = try valueNode.nonEmptyString()
            return text.hasPrefix("/") ? text : URL(fileURLWithPath: folder).appendingPathComponent(text).standardized.path
        }
        guard let kernel = try path("kernel") else { throw node.error("a health check needs a 'kernel'") }
        let check = HealthCheck(
            kernel: kernel, ramdisk: try path("ramdisk"), dtb: try path("dtb"), prompt: try map.optional("prompt")?.nonEmptyString())
        try map.finish()
        return check
    }
}

extension PowerSequence {
    /// Decodes `{off_s, settle_s}`.
    public static func decode(_ node: ConfigNode) throws(ConfigError) -> PowerSequence {
        let map = try node.mapping()
        func seconds(_ key: String) throws(ConfigError) -> Double {
            guard let valueNode = map.optional(key) else { return 0 }
            let value = try valueNode.number()
            guard value >= 0, value <= 600 else { throw valueNode.error("expected 0 to 600 seconds, found \(value)") }
            return value
        }
        let sequence = PowerSequence(offSeconds: try seconds("off_s"), settleSeconds: try seconds("settle_s"))
        try map.finish()
        return sequence
    }
}
