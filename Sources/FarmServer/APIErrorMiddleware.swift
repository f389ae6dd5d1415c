import FarmCore
import Hummingbird
import Logging

/// Answers every error a route throws with its status and a JSON body `{"error": "...", "field": "..."}`.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The body limit, so that a 413 can say it.
    let maximumBodyBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var apiError = APIError.from(error)
            if case .bodyTooLarge = apiError { apiError = .bodyTooLarge(limitBytes: maximumBodyBytes) }
            if case .internalFailure = apiError {
                context.logger.error("\(request.method) \(request.uri.path): \(apiError)")
            }
            var object: [String: Any] = ["error": apiError.description]
            object["field"] = apiError.field
            return JSONResponse.make(object, status: apiError.status)
        }
    }
}
