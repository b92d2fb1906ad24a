import Foundation
import Hummingbird
import Logging

/// Around every request: turns errors the router throws (404 and the like) into the JSON error
/// shape, counts the request by route and status, records its latency and logs one line at info.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        var matched = true
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            let status = error.status
            matched = status != .notFound
            let type = status == .notFound ? "not_found_error" : status == .methodNotAllowed ? "method_not_allowed_error" : "invalid_request_error"
            let message = status == .notFound ? "no route \(request.method) \(request.uri.path)" : "\(status.reasonPhrase)"
            response = APIError(status: status, type: type, message: message).response
        } catch {
            response = APIError.server("unexpected error: \(error)").response
        }
        let duration = ContinuousClock.now - start
        // Unmatched paths share one label so that a scanner cannot grow the metric set without bound.
        let route = matched ? (context.endpointPath ?? "unmatched") : "unmatched"
        metrics.recordRequest(route: route, status: response.status.code, duration: duration)
        let ms = Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000
        context.logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code) \(String(format: "%.1f", ms))ms",
            metadata: ["route": .string(route)])
        return response
    }
}
