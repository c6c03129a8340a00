import Foundation
import Hummingbird
import NIOCore

/// Reading request bodies and writing JSON responses, with the limits and messages the server promises.
enum JSONBody {
    /// Reads the whole body, refusing more than `limit` bytes, and decodes it as `T`.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let data = try await collect(request, limit: limit)
        guard !data.isEmpty else { throw APIError.badRequest("the request body is empty: send a JSON object") }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError.badRequest(describe(error))
        }
    }

    /// The body's bytes, at most `limit` of them (413 beyond).
    static func collect(_ request: Request, limit: Int) async throws -> Data {
        do {
            var buffer = try await request.body.collect(upTo: limit)
            return buffer.readData(length: buffer.readableBytes) ?? Data()
        } catch is NIOTooManyBytesError {
            throw APIError.tooLarge(limit: limit)
        }
    }

    /// A short message for a body that did not decode: where in the JSON and what was wrong.
    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ key: CodingKey? = nil) -> String {
            var keys = context.codingPath
            if let key { keys.append(key) }
            let parts = keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }
            let joined = parts.joined()
            return joined.hasPrefix(".") ? String(joined.dropFirst()) : joined
        }
        switch error {
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty { return "the request body is not valid JSON" }
            return "invalid value at '\(path(context))': \(context.debugDescription)"
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context, key))'"
        case .typeMismatch(let type, let context):
            return context.codingPath.isEmpty
                ? "the request body must be a JSON object"
                : "field '\(path(context))' has the wrong type (expected \(typeName(type)))"
        case .valueNotFound(let type, let context):
            return "field '\(path(context))' is null (expected \(typeName(type)))"
        @unknown default:
            return "the request body could not be read as JSON"
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        case is Bool.Type: return "true or false"
        default:
            let name = String(describing: type)
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a different type"
        }
    }

    /// Encodes `value` as the response body with `Content-Type: application/json`.
    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try encoder.encode(value)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// One JSON value as bytes, for streamed lines and events.
    static func bytes<T: Encodable>(_ value: T) throws -> Data {
        try encoder.encode(value)
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        return encoder
    }
}

/// A JSON field that may hold one string or an array of strings (`input`, `stop`).
enum OneOrMany: Decodable, Sendable, Equatable {
    case one(String)
    case many([String])

    var values: [String] {
        switch self {
        case .one(let value): return [value]
        case .many(let values): return values
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(String.self) {
            self = .one(value)
        } else if let values = try? container.decode([String].self) {
            self = .many(values)
        } else {
            throw DecodingError.typeMismatch(
                [String].self,
                .init(codingPath: decoder.codingPath, debugDescription: "expected a string or an array of strings"))
        }
    }
}

/// Timestamps in the forms clients expect.
enum Timestamp {
    /// Seconds since 1970, as OpenAI's `created`.
    static func unix(_ date: Date = Date()) -> Int { Int(date.timeIntervalSince1970) }

    /// RFC 3339 with fractional seconds in UTC, as Ollama's `created_at`.
    static func rfc3339(_ date: Date = Date()) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }
}
