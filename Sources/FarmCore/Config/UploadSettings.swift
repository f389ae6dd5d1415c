import Foundation

/// Where a lab shares its boots: the central results server, the lab's token for it, and how
/// uploads are batched and retried. The lab file's `server:` section.
public struct UploadSettings: Sendable, Equatable {
    /// How the lab's token is given.
    public enum Token: Sendable, Equatable {
        /// The token itself.
        case text(String)
        /// A file holding the token (absolute path), read when an upload starts.
        case file(String)
    }

    /// The server's base URL: http or https, without a trailing slash.
    public var url: String
    /// The lab's token, as `bootfarm token create --lab NAME` printed it.
    public var token: Token
    /// Boots per request. Default 100.
    public var batchSize: Int
    /// The longest wait between attempts while the server cannot be reached, in seconds. Default 300.
    public var maximumBackoffSeconds: Double
    /// Where the token is named (file, line, key), for errors found when it is read.
    public var tokenPlace: ConfigError

    public init(
        url: String, token: Token, batchSize: Int = 100, maximumBackoffSeconds: Double = 300,
        tokenPlace: ConfigError = ConfigError(file: "", message: "")
    ) {
        self.url = url
        self.token = token
        self.batchSize = batchSize
        self.maximumBackoffSeconds = maximumBackoffSeconds
        self.tokenPlace = tokenPlace
    }

    /// The token: given in the lab file, or read from its file (surrounding white space removed).
    public func resolvedToken() throws(ConfigError) -> String {
        switch token {
        case .text(let text):
            return text
        case .file(let path):
            var error = tokenPlace
            guard let data = FileManager.default.contents(atPath: path) else {
                error.message = "cannot read the token file \(path) (missing or unreadable)"
                throw error
            }
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !text.isEmpty, !text.contains(where: \.isWhitespace) else {
                error.message = "the token file \(path) must hold one token (as 'bootfarm token create' printed it)"
                throw error
            }
            return text
        }
    }

    /// What a server URL must look like, for error messages.
    public static let urlExpectation = "an http:// or https:// URL with a host, such as https://results.example.org"

    /// `text` as a server's base URL (http or https with a host; no query, no trailing slash), or
    /// nil when it is not one.
    public static func serverURL(_ text: String) -> String? {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
            let host = url.host, !host.isEmpty, url.query == nil, url.fragment == nil
        else { return nil }
        var normalized = text
        while normalized.hasSuffix("/") { normalized.removeLast() }
        return normalized
    }
}

extension UploadSettings {
    /// Decodes `{url, token | token_file, batch, max_backoff_s}`; `resolve` makes `token_file`
    /// relative to the lab file's folder.
    public static func decode(_ node: ConfigNode, resolve: (String) -> String) throws(ConfigError) -> UploadSettings {
        let map = try node.mapping()
        let urlNode = try map.required("url")
        guard let url = serverURL(try urlNode.nonEmptyString()) else {
            throw urlNode.error("expected \(urlExpectation), found '\(try urlNode.string())'")
        }
        let tokenNode = map.optional("token")
        let fileNode = map.optional("token_file")
        let token: Token
        let tokenPlace: ConfigNode
        switch (tokenNode, fileNode) {
        case (let tokenNode?, nil):
            token = .text(try tokenNode.nonEmptyString())
            tokenPlace = tokenNode
        case (nil, let fileNode?):
            token = .file(resolve(try fileNode.nonEmptyString()))
            tokenPlace = fileNode
        case (_?, let fileNode?):
            throw fileNode.error("give token or token_file, not both")
        case (nil, nil):
            throw node.error(
                "missing the lab's token: set token (as 'bootfarm token create --lab NAME' printed it) or token_file (a file holding it)")
        }
        var settings = UploadSettings(url: url, token: token, tokenPlace: tokenPlace.error(""))
        if let batchNode = map.optional("batch") {
            settings.batchSize = try batchNode.integer()
            guard (1...1000).contains(settings.batchSize) else {
                throw batchNode.error("expected 1 to 1000 boots per request, found \(settings.batchSize)")
            }
        }
        if let backoffNode = map.optional("max_backoff_s") {
            settings.maximumBackoffSeconds = try backoffNode.number()
            guard settings.maximumBackoffSeconds >= 1, settings.maximumBackoffSeconds <= 86400 else {
                throw backoffNode.error("expected 1 to 86400 seconds, found \(settings.maximumBackoffSeconds)")
            }
        }
        try map.finish()
        return settings
    }
}
