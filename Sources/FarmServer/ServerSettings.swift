/// How the results server listens and whom it lets read.
public struct ServerSettings: Sendable {
    /// Address to listen on; default 127.0.0.1.
    public var host: String
    /// TCP port; 0 picks a free one. Default 8080.
    public var port: Int
    /// When true, reads need a token too; by default anyone may read.
    public var isPrivate: Bool
    /// The largest request body accepted, in bytes; default 16 MiB (about 2000 boots with logs).
    public var maximumBodyBytes: Int

    public init(host: String = "127.0.0.1", port: Int = 8080, isPrivate: Bool = false, maximumBodyBytes: Int = 16 << 20) {
        self.host = host
        self.port = port
        self.isPrivate = isPrivate
        self.maximumBodyBytes = maximumBodyBytes
    }
}
