import Foundation
import Hummingbird
import RequestDecoding
import StrictJSON

/// A request the server refuses, with the status and the one JSON error shape every route uses:
///
/// ```json
/// {"error": {"message": "...", "type": "validation_error", "code": 422}}
/// ```
///
/// This is the OpenAI / llama.cpp shape, which the OpenAI client libraries parse into their
/// exceptions; TEI's `{"error": "...", "error_type": "..."}` cannot share the `error` key with it,
/// so TEI's `error_type` is reported as `type`.
public struct APIError: RequestRejection, Sendable, Equatable, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let type: String
    public let message: String
    /// Seconds for a `Retry-After` header (429, 503).
    public let retryAfter: Int?

    public init(status: HTTPResponse.Status, type: String, message: String, retryAfter: Int? = nil) {
        self.status = status
        self.type = type
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(type): \(message)" }

    /// 400: the body is not JSON, or an input list is empty.
    public static func invalidRequest(_ message: String) -> APIError {
        APIError(status: .badRequest, type: "invalid_request_error", message: message)
    }
    /// 422: well-formed JSON that asks for something this model cannot do.
    public static func validation(_ message: String) -> APIError {
        APIError(status: .unprocessableContent, type: "validation_error", message: message)
    }
    /// 413
    static func tooLarge(limit: Int) -> APIError {
        APIError(
            status: .contentTooLarge, type: "payload_too_large_error",
            message: "the request body is larger than \(limit) bytes (--max-body-bytes)")
    }
    /// 415
    static func unsupportedMediaType(_ found: String?) -> APIError {
        APIError(
            status: .unsupportedMediaType, type: "unsupported_media_type_error",
            message: "expected a request with `Content-Type: application/json`" + (found.map { ", got `\($0)`" } ?? ", got none"))
    }
    /// 429
    static func overloaded(pending: Int, limit: Int) -> APIError {
        APIError(
            status: .tooManyRequests, type: "overloaded_error",
            message: "model is overloaded: \(pending) inputs are pending and at most \(limit) may be (--max-pending-inputs); retry later",
            retryAfter: 1)
    }
    /// 503
    static func unavailable(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, type: "unavailable_error", message: message, retryAfter: 1)
    }
    /// 500: a bug or a model failure, never the client's fault.
    static func server(_ message: String) -> APIError {
        APIError(status: .internalServerError, type: "server_error", message: message)
    }

    /// The JSON body.
    var body: String {
        "{\"error\":{\"message\":\(JSONWriter.quoted(message)),\"type\":\(JSONWriter.quoted(type)),\"code\":\(status.code)}}"
    }

    /// The HTTP response.
    var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// The request decoder of the HTTP layer: refusals come out as ``APIError``s.
typealias RequestReader = RequestDecoding.RequestReader<APIError>
