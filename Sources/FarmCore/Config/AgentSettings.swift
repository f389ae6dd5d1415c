/// A lab's settings for its agent: retries of infrastructure errors and when a board goes offline.
public struct AgentSettings: Sendable, Equatable {
    /// Retries of a job that ended in an infrastructure error, unless the job sets its own. Default 2.
    public var retries: Int
    /// Consecutive failed health checks that take a board offline. Default 3.
    public var healthFailuresOffline: Int
    /// How long a serial console may vanish (USB re-enumeration on a power cycle) before the boot
    /// is an infrastructure error, in seconds. Default 10.
    public var consoleReturnSeconds: Double

    public init(retries: Int = 2, healthFailuresOffline: Int = 3, consoleReturnSeconds: Double = 10) {
        self.retries = retries
        self.healthFailuresOffline = healthFailuresOffline
        self.consoleReturnSeconds = consoleReturnSeconds
    }
}

extension AgentSettings {
    /// Decodes `{retries, health_failures_offline, console_return_s}`.
    public static func decode(_ node: ConfigNode) throws(ConfigError) -> AgentSettings {
        let map = try node.mapping()
        var settings = AgentSettings()
        if let valueNode = map.optional("retries") {
            settings.retries = try valueNode.integer()
            guard (0...10).contains(settings.retries) else { throw valueNode.error("expected 0 to 10 retries, found \(settings.retries)") }
        }
        if let valueNode = map.optional("health_failures_offline") {
            settings.healthFailuresOffline = try valueNode.integer()
            guard (1...100).contains(settings.healthFailuresOffline) else {
                throw valueNode.error("expected 1 to 100 failed health checks, found \(settings.healthFailuresOffline)")
            }
        }
        if let valueNode = map.optional("console_return_s") {
            settings.consoleReturnSeconds = try valueNode.number()
            guard settings.consoleReturnSeconds >= 0, settings.consoleReturnSeconds <= 600 else {
                throw valueNode.error("expected 0 to 600 seconds, found \(settings.consoleReturnSeconds)")
            }
        }
        try map.finish()
        return settings
    }
}
