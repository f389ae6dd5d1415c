import ArgumentParser
import FarmAgent
import FarmCore
import FarmStore

/// `--server URL --token T`: the results server a command uploads boots to, over the lab
/// file's `server:` section.
struct ServerOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Results server to upload boots to (over the lab file's server.url).", valueName: "url"))
    var server: String?

    @Option(help: "The lab's token for --server (default: the lab file's server.token or token_file).")
    var token: String?

    func validate() throws {
        if token != nil && server == nil {
            throw ValidationError(
                "--token needs --server URL, the server the token belongs to (or set server: {url: ..., token: ...} in the lab file)")
        }
        if let server, UploadSettings.serverURL(server) == nil {
            throw ValidationError("--server '\(server)': expected \(UploadSettings.urlExpectation)")
        }
        if let token, token.isEmpty || token.contains(where: \.isWhitespace) {
            throw ValidationError("--token must be one token, as 'bootfarm token create --lab NAME' printed it")
        }
    }

    /// The server `lab`'s boots go to: the flags over its `server:` section; nil when neither
    /// names one. Its token is not read yet (see `token(for:lab:)`).
    func settings(for lab: LabConfig) -> UploadSettings? {
        guard let server, let url = UploadSettings.serverURL(server) else { return lab.server }
        var settings = lab.server ?? UploadSettings(url: url, token: .text(""))
        settings.url = url
        if let token { settings.token = .text(token) }
        return settings
    }

    /// The token for `settings`: `--token`, else the lab file's; a usage error when there is none
    /// or its file cannot be read.
    func token(for settings: UploadSettings, lab: LabConfig) throws -> String {
        if let token { return token }
        guard lab.server != nil else {
            throw CLIError.usage(
                "--server \(settings.url) needs the lab's token",
                detail: "give --token TOKEN (from 'bootfarm token create --lab \(lab.name)' on the server), "
                    + "or set server.token or server.token_file in \(lab.file)")
        }
        do {
            return try settings.resolvedToken()
        } catch {
            throw CLIError.usage(error.description, detail: "fix server.token_file in \(lab.file), or give --server URL --token TOKEN")
        }
    }

    /// An uploader to `lab`'s server from `store`, or nil when the lab has none.
    func uploader(for lab: LabConfig, store: ResultStore) throws -> OutboxUploader? {
        guard let settings = settings(for: lab) else { return nil }
        return try uploader(settings, lab: lab, store: store)
    }

    /// An uploader to the server `settings` names, from `store`.
    func uploader(_ settings: UploadSettings, lab: LabConfig, store: ResultStore) throws -> OutboxUploader {
        OutboxUploader(
            store: store, server: settings.url, token: try token(for: settings, lab: lab),
            options: OutboxUploader.Options(batchSize: settings.batchSize, maximumBackoffSeconds: settings.maximumBackoffSeconds))
    }
}
