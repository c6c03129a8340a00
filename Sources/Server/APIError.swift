import Foundation
import Hummingbird

/// A request that cannot be served, with the HTTP status and a message meant for the client's user.
///
/// OpenAI-style routes render it as `{"error":{"message":…,"type":…,"code":…}}`; Ollama routes (`/api/…`)
/// as `{"error":"…"}`, the shape Ollama clients read.
struct APIError: Error, CustomStringConvertible, Equatable {
    var status: HTTPResponse.Status
    var message: String
    /// OpenAI's error category, e.g. `invalid_request_error`.
    var type: String
    var code: String?

    var description: String { message }

    static func badRequest(_ message: String, code: String? = nil) -> APIError {
        APIError(status: .badRequest, message: message, type: "invalid_request_error", code: code)
    }

    static func modelNotFound(_ name: String, available: [String]) -> APIError {
        let offered = available.isEmpty ? "none" : available.joined(separator: ", ")
        return APIError(
            status: .notFound, message: "model '\(name)' is not served here; available: \(offered)",
            type: "invalid_request_error", code: "model_not_found")
    }

    static func modelUnavailable(_ name: String, reason: String) -> APIError {
        APIError(
            status: .internalServerError, message: "model '\(name)' could not be loaded: \(reason)",
            type: "server_error", code: "model_load_failed")
    }

    static func notConfigured(_ what: String) -> APIError {
        APIError(status: .notImplemented, message: what, type: "invalid_request_error", code: "not_configured")
    }

    static let unauthorized = APIError(
        status: .unauthorized, message: "missing or wrong bearer token: send `Authorization: Bearer <serve_token>`",
        type: "authentication_error", code: "invalid_api_key")

    static func tooLarge(limit: Int) -> APIError {
        APIError(
            status: .contentTooLarge, message: "request body is larger than \(limit) bytes",
            type: "invalid_request_error", code: "request_too_large")
    }

    static func notFound(_ path: String) -> APIError {
        APIError(status: .notFound, message: "no such endpoint: \(path)", type: "invalid_request_error", code: "not_found")
    }

    static func forbidden(_ message: String) -> APIError {
        APIError(status: .forbidden, message: message, type: "permission_error", code: "forbidden")
    }

    static func busy(_ message: String) -> APIError {
        APIError(status: .serviceUnavailable, message: message, type: "server_error", code: "busy")
    }

    static func internalError(_ message: String) -> APIError {
        APIError(status: .internalServerError, message: message, type: "server_error", code: nil)
    }

    /// Maps any error raised while serving a request to what the client is told.
    static func from(_ error: any Error, path: String) -> APIError {
        switch error {
        case let error as APIError: return error
        case let error as ExclusiveGate.Full: return .busy(error.description)
        case is CancellationError: return .busy("the request was cancelled")
        case let error as DecodingError: return .badRequest(JSONBody.describe(error))
        case let error as HTTPError:
            if error.status == .notFound { return .notFound(path) }
            return APIError(
                status: error.status, message: error.body ?? error.status.reasonPhrase,
                type: error.status.code < 500 ? "invalid_request_error" : "server_error", code: nil)
        case let error as any HTTPResponseError:
            return APIError(
                status: error.status, message: error.status.reasonPhrase,
                type: error.status.code < 500 ? "invalid_request_error" : "server_error", code: nil)
        default:
            return .internalError(String(describing: error))
        }
    }

    /// The JSON response for this error, in the style of the route family `path` belongs to.
    func response(path: String) -> Response {
        let object: [String: Any]
        if OllamaRoutes.isOllamaPath(path) {
            object = ["error": message]
        } else {
            var detail: [String: Any] = ["message": message, "type": type]
            detail["code"] = code ?? NSNull()
            object = ["error": detail]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
