import FarmReports
import FarmStore
import Hummingbird
import Logging
import NIOCore

/// The results server: labs submit boots to it, and people and tools read boots, revisions,
/// regressions and feeds from it over HTTP (`/api/v1/…`, `/feed.atom`).
///
/// Writes need a token (`Authorization: Bearer …`): a lab token writes its own lab's boots, an
/// admin token anything. Reads are public unless `settings.isPrivate`.
public struct ResultsServer: Sendable {
    public let store: ResultStore
    public let settings: ServerSettings
    /// The dashboard's templates and static files; without them the server answers the API only.
    public let web: WebAssets?
    /// Regression reports, kept until the store changes.
    let reports = StampedCache<RegressionReport>(budget: 128)
    /// Rendered dashboard pages, kept until the store changes.
    let pages = StampedCache<String>(budget: 64 << 20) { $0.utf8.count }
    /// Pages of the boots list, kept until the store changes.
    let answers = StampedCache<String>(budget: 16 << 20) { $0.utf8.count }

    public init(store: ResultStore, settings: ServerSettings, web: WebAssets? = nil) {
        self.store = store
        self.settings = settings
        self.web = web
    }

    /// The application, ready to run (`runService()`) or to test. `onListening` is called with
    /// the port once the server accepts connections (useful with port 0).
    public func application(
        logger: Logger = Logger(label: "bootfarm.server"), onListening: @escaping @Sendable (Int) -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(),
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: "bootfarm"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: APIErrorMiddleware(maximumBodyBytes: settings.maximumBodyBytes))
        router.post("/api/v1/boots") { request, context in try await submitBoots(request, context: context) }
        // Store calls block, so handlers run them on NIO's thread pool, not on the request's task.
        router.get("/api/v1/boots") { request, _ in try await offload { try listBoots(request) } }
        router.get("/api/v1/boots/{id}") { request, context in
            let id = try pathParameter(context, "id")
            return try await offload { try showBoot(request, id: id) }
        }
        router.delete("/api/v1/boots/{id}") { request, context in
            let id = try pathParameter(context, "id")
            return try await offload { try deleteBoot(request, id: id) }
        }
        router.get("/api/v1/revisions") { request, _ in try await offload { try listRevisions(request) } }
        router.get("/api/v1/regressions") { request, _ in try await offload { try regressions(request) } }
        router.get("/api/v1/boards") { request, _ in try await offload { try listBoards(request) } }
        router.get("/api/v1/labs") { request, _ in try await offload { try listLabs(request) } }
        router.get("/feed.atom") { request, _ in try await offload { try feed(request) } }
        if let web { addPages(to: router, web: web) }
        return router
    }

    /// The caller of `request`, refused when reading needs a token and it has none.
    func reader(_ request: Request) throws -> Caller {
        let caller = try Caller.identify(authorization: request.headers[.authorization], store: store)
        if settings.isPrivate && caller == .anonymous {
            throw APIError.unauthorized(message: "this server is private: send 'Authorization: Bearer TOKEN'")
        }
        return caller
    }

    /// The value of query parameter `name`, refused when empty and `required`.
    func parameter(_ request: Request, _ name: String, required: Bool = false) throws -> String? {
        let value = request.uri.queryParameters[name[...]].map(String.init)
        if required && (value ?? "").isEmpty {
            throw APIError.invalidField(field: name, message: "missing (required query parameter)")
        }
        return value
    }
}

/// Path segment `name` of the matched route, percent-decoded (links encode ids and lab names).
func pathParameter(_ context: some RequestContext, _ name: String) throws -> String {
    let raw = try context.parameters.require(name)
    guard let decoded = raw.removingPercentEncoding else {
        throw APIError.invalidField(field: name, message: "not a valid percent-encoded path segment: '\(raw)'")
    }
    return decoded
}
